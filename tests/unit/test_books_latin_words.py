"""Latin words in Kazakh pages (operators/books/latin_words.py): the rule on Tesseract TSV rows,
then real Tesseract (kaz+rus, words re-read with eng) on a typeset Kazakh page with English
names, acronyms and an address in it."""
import functools

import pytest

from operators.books.latin_words import MAX_WORDS, PAD, reread_latin_words, same_shapes
from operators.books.ocr import TesseractOCR
from tests.unit.test_books_ocr import cer, kazakh_letter_recall, typeset

HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"


def tsv(*words: tuple[str, float]) -> str:
    rows = [HEADER, "\t".join(map(str, (4, 1, 1, 1, 1, 0, 0, 0, 900, 40, -1, "")))]
    rows += ["\t".join(map(str, (5, 1, 1, 1, 1, i + 1, 100 * i, 0, 90, 40, conf, word)))
             for i, (word, conf) in enumerate(words)]
    return "\n".join(rows)


def words_of(table: str) -> list[str]:
    return [row.split("\t")[11] for row in table.split("\n")[1:] if row.startswith("5\t")]


# What Tesseract's eng model reads in each box, with its confidence (measured readings, and
# "Тһеге" from a real PDF read with kaz+rus).
ENGLISH = {"У/тдо\\$": ("Windows", 96), "СРО": ("GPU", 96), "(ОСЬ)": ("(OCR)", 96), "ҚР": ("KP", 96),
           "жұмыс": ("JKYMBIC", 0), "туралы": ("TYypaJibl", 14), "на": ("Ha", 95), "ВВС": ("BBC", 96),
           "Біз": ("bi3", 85), "ЖОО": ("MOO", 79), "Рушфоп": ("Python is", 96), "м/м/м/.Ка?ла.К2,": ("www.kaznu.kz,", 91),
           "Тһеге": ("There", 95), "Ол": ("On", 95), "РОҒ": ("PDF", 94)}
PAGE = tsv(("У/тдо\\$", 16.9), ("СРО", 86.8), ("(ОСЬ)", 44.6), ("ҚР", 60.0), ("жұмыс", 70.0), ("туралы", 83.2),
           ("на", 89.5), ("ВВС", 80.0), ("Біз", 80.0), ("ЖОО", 83.2), ("Рушфоп", 39.8), ("м/м/м/.Ка?ла.К2,", 0.0),
           ("Тһеге", 70.0), ("Ол", 85.0), ("РОҒ", 60.0), ("Google", 60.0), ("компаниясы", 96.4), ("5", 50.0))
KNOWN = {"на", "ол", "жұмыс", "туралы", "біз"}  # what the Kazakh and Russian lists know of these


def reread(page: str, known=None):
    asked = []

    def read_box(box):
        word = words_of(page)[(box[0] + PAD) // 100]
        asked.append(word)
        return ENGLISH.get(word, ("", 0))

    out, replaced = reread_latin_words(page, read_box, size=(2000, 100), known=known)
    return words_of(out), replaced, asked, out


def test_only_unsure_unknown_words_take_a_sure_latin_reading():
    words, replaced, asked, out = reread(PAGE, known=lambda word: word.lower() in KNOWN)
    assert words == ["Windows", "GPU", "(OCR)", "ҚР", "жұмыс", "туралы", "на", "ВВС", "Біз", "ЖОО", "Рушфоп",
                     "www.kaznu.kz,", "There", "Ол", "PDF", "Google", "компаниясы", "5"]
    assert replaced == 6
    # Sure words, Latin ones and numbers are not read again.
    assert not {"компаниясы", "Google", "5"} & set(asked)
    # the replaced word carries the English reading's confidence; the rest of the TSV is untouched
    assert out.split("\n")[2].split("\t")[10:] == ["96", "Windows"]
    assert out.split("\n")[:2] == PAGE.split("\n")[:2]


def test_without_word_lists_words_of_the_same_shapes_keep_their_reading():
    words, replaced, _, _ = reread(PAGE)
    assert words[words.index("на")] == "на" and "Тһеге" in words and "ВВС" in words and "ҚР" in words
    assert "On" in words  # no list to say Ол is a word: its shapes differ from "On"
    assert replaced == 6


def test_boxes_are_padded_inside_the_image():
    boxes = []
    reread_latin_words(tsv(("СРО", 50.0)), lambda box: boxes.append(box) or ("", 0), size=(80, 30))
    assert boxes == [(0, 0, 80, 30)]


@pytest.mark.parametrize("latin, cyrillic, same", [("Ha", "на", True), ("BBC", "ВВС", True), ("API", "АРІ", True),
                                                   ("KP", "ҚР", True), ("There", "Тһеге", True),
                                                   ("GPU", "СРО", False), ("OCR", "ОСК", False), ("On", "Ол", False)])
def test_same_shapes(latin, cyrillic, same):
    assert same_shapes(latin, cyrillic) is same


KAZAKH_WITH_LATIN = ("Біз Windows және Linux жүйелерінде Python тілінде бағдарлама жазамыз. Google компаниясы мен "
                     "Microsoft корпорациясы жаңа GPU ұсынды, ал NASA мен UNESCO бұл жобаны қолдады. "
                     "Сайттың мекенжайы www.kaznu.kz болып табылады. Қазақ тілі мен әдебиеті ұлттық мұра.")
LATIN = ["Windows", "Linux", "Python", "Google", "Microsoft", "GPU", "NASA", "UNESCO", "www.kaznu.kz"]


@pytest.fixture(scope="module")
def kazakh_page():
    return typeset(KAZAKH_WITH_LATIN)


def test_tesseract_reads_latin_words_on_a_kazakh_page(kazakh_page):
    image, reference = kazakh_page
    without = TesseractOCR(languages="kaz+rus", backend="api").recognize(image)
    engine = TesseractOCR(languages="kaz+rus", backend="api", latin_words="eng")
    result = engine.recognize(image)
    # Measured: all but "Python" (read "Ру{Поп", Tesseract sure of it) and the address (English 88% sure).
    assert {"Windows", "Linux", "Google", "Microsoft", "GPU", "NASA", "UNESCO"} <= set(result.text.replace(",", " ").split()), \
        result.text
    assert sum(word in without.text for word in LATIN) <= 1, without.text  # what kaz+rus alone makes of them
    assert cer(reference, result.text) < cer(reference, without.text) / 2
    assert kazakh_letter_recall(reference, result.text) >= 0.95, result.text
    assert engine.config_hash != TesseractOCR(languages="kaz+rus", backend="api").config_hash


def test_latin_rereading_is_off_where_the_page_has_a_latin_model():
    engine = TesseractOCR(languages="rus+eng", backend="api", latin_words="eng")
    assert engine.latin_api is None
    assert engine.config_hash == TesseractOCR(languages="rus+eng", backend="api").config_hash


def test_a_missing_latin_model_is_named():
    with pytest.raises(ValueError, match="tesseract-ocr-xyz"):
        TesseractOCR(languages="kaz+rus", latin_words="xyz")


def test_a_page_of_unsure_words_is_read_again_only_up_to_a_bound():
    asked = []
    out, replaced = reread_latin_words(tsv(*[("СРО", 50.0)] * (MAX_WORDS + 20)),
                                       lambda box: asked.append(box) or ("GPU", 96), size=(20000, 100))
    assert len(asked) == replaced == MAX_WORDS
    assert words_of(out).count("GPU") == MAX_WORDS and words_of(out).count("СРО") == 20


def test_a_word_whose_box_cannot_be_read_again_stays_as_read():
    # Tesseract reports a word on the image's right edge: its padded box is empty there, and
    # tesserocr refuses an empty image (ValueError); the page keeps its reading.
    engine = TesseractOCR(languages="kaz+rus", backend="api", latin_words="eng")
    image, _ = typeset("Біз")
    page = tsv(("СРО", 50.0)).replace("\t0\t0\t90\t40\t50.0\t", f"\t{image.width + 10}\t0\t90\t40\t50.0\t")
    with pytest.raises(ValueError):
        engine._read_latin(image, (image.width, 0, image.width, 44))
    out, replaced = reread_latin_words(page, functools.partial(engine._read_latin, image), image.size)
    assert words_of(out) == ["СРО"] and replaced == 0
