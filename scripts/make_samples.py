#!/usr/bin/env python3
"""Generate the bundled demo inputs in ``samples/`` (committed to the repository).

Usage::

    python scripts/make_samples.py [--seeds DIR] [--out DIR]

``--seeds`` (default: ``../shared/seeds`` next to the repository root, resolved
from this file's location) must contain the seed texts ``000_*.txt`` (a long
Kazakh/Russian/English article about AI in Kazakhstan) and ``004_*.txt`` (an
English news-like text). The seeds are required: real sentences are taken from
them (the Kazakh and Russian abstracts, the English body text). The seeds hold
only about 1.5 KB of Kazakh and Russian each, so most Kazakh and Russian
documents below are close translations, written for this script, of passages of
the English seed texts (marked "translated from seed" next to them); the
remaining texts (instruction pairs, a library notice, filler for quality
rejections) are written here.

The output is deterministic: fixed random seeds, no timestamps (PDF metadata
dates are empty, no /ID is written), sorted and fixed record order. Running the
script twice gives byte-identical files with the same library versions
(PyMuPDF, Pillow, pyarrow). Fonts: DejaVuSans from ``fonts-dejavu-core``
(``/usr/share/fonts/truetype/dejavu``), which has all Kazakh letters.

What every file demonstrates is written to ``samples/README.md`` and, for
tests, to ``samples/expected.json`` (planted duplicates, expected rejections,
intentionally bad inputs). Ground truth for the image-only pages is in
``samples/ground_truth/ocr_pages.jsonl``.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS = REPO_ROOT.parent / "shared" / "seeds"
DEFAULT_OUT = REPO_ROOT / "samples"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

KK_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
VOWELS = set("аәеёиоөуұүыіэюяaeiouy")

# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------


def clean_markdown(text: str) -> str:
    """Strip the markdown/LaTeX/citation artefacts the seeds carry."""
    text = re.sub(r"<https?://[^>]*>", "", text)
    text = re.sub(r"\^\{[^}]*\}", "", text)
    text = re.sub(r"\$\\[^$]*\$", "", text)  # LaTeX math such as $\geq 0.005\%$
    text = text.replace("\\$", "$")
    text = text.replace("**", "").replace("*", "")
    text = re.sub(r"\s?\[\d+(?:\s*[,–-]\s*\d+)*\]", "", text)
    text = text.replace("..", ".")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ([,.;:])", r"\1", text)
    return text.strip()


def seed_paragraphs(seeds: Path) -> tuple[list[str], str]:
    """Return (paragraphs of 000_*.txt, joined across mid-sentence breaks; text of 004_*.txt)."""
    try:
        article = next(seeds.glob("000_*.txt"))
        news = next(seeds.glob("004_*.txt"))
    except StopIteration:
        sys.exit(f"make_samples: seeds 000_*.txt and 004_*.txt not found in {seeds} (use --seeds)")
    raw = [p.strip() for p in re.split(r"\n\s*\n", article.read_text(encoding="utf-8")) if p.strip()]
    paras: list[str] = []
    for p in raw:
        # The seed breaks some paragraphs mid-sentence; the continuation starts lowercase.
        if paras and p[:1].islower():
            paras[-1] = paras[-1] + " " + p
        else:
            paras.append(p)
    return [clean_markdown(p) for p in paras], news.read_text(encoding="utf-8")


def pick(paras: list[str], prefix: str) -> str:
    hits = [p for p in paras if p.startswith(prefix)]
    if len(hits) != 1:
        sys.exit(f"make_samples: expected one seed paragraph starting with {prefix!r}, found {len(hits)}")
    return hits[0]


def news_text(raw: str) -> str:
    """The 004 seed as an article: keep full sentences only (the seed is cut mid-line)."""
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    while lines and not lines[-1].endswith((".", "!", "?")):
        lines.pop()
    return "\n".join(clean_markdown(x) for x in lines)


# ---------------------------------------------------------------------------
# Texts written for the samples (Kazakh and Russian: translated from the seeds)
# ---------------------------------------------------------------------------

# translated from seed 004 (Overview)
KK_MIT = (
    "Массачусетс технологиялық институтының (MIT) зерттеуі Қазақстан, Өзбекстан және Қырғызстандағы "
    "жасанды интеллект инфрақұрылымы мен оны қолдану деңгейінің алғашқы сандық бейнесін ұсынды. "
    "Зерттеу нәтижелері аппараттық қуаттың жылдам өсіп келе жатқанын, бірақ кәсіпорындардың жаңа "
    "технологияны енгізуге әлі де сақтықпен қарайтынын көрсетті. Зерттеуді MIT-тің аймақтық "
    "кәсіпкерлікті жеделдету бағдарламасы (REAP) жүргізді. Авторлар үш елдегі GPU кластерлерін, "
    "тілдік модельдерді жергілікті деңгейде баптау жобаларын және кәсіпорындардағы енгізу үлесін "
    "салыстырды. Деректер мемлекеттік сатып алулардан, бұлттық провайдерлердің есептерінен және "
    "2022 жылғы қаңтар мен 2023 жылғы желтоқсан аралығында 147 компаниямен жүргізілген "
    "сұхбаттардан жиналды."
)
# translated from seed 004 (Key Findings)
KK_FINDINGS = (
    "Зерттеудің негізгі қорытындылары бойынша аймақтағы GPU қуаты жыл сайын 40 пайызға артып отыр, "
    "ал оның 68 пайызы Қазақстанның үлесіне тиесілі. 2022 жылдан бері тілдік модельдерді баптау "
    "жобаларының саны үш есе өсті. Бұл өсімге ашық бастапқы кодты модельдер мен мемлекет "
    "қаржыландыратын зертханалар ықпал етті. Алайда сауалнамаға қатысқан компаниялардың тек 12 "
    "пайызы ғана жасанды интеллект модельдерін тәжірибелік сынақтан тыс қолданады. Қалған "
    "компаниялар нормативтік талаптар мен білікті мамандардың тапшылығын басты кедергі ретінде атады."
)
# translated from seed 004 (Bottlenecks, Workarounds)
KK_SOVEREIGNTY = (
    "Деректердің егемендігі туралы заңдар деректерді ел ішінде сақтауды талап етеді, сондықтан "
    "бұлтқа негізделген жұмыс үдерістері күрделене түседі. Университеттер жыл сайын жасанды "
    "интеллект пен машиналық оқыту бойынша шамамен 1200 түлек даярлайды, бірақ олардың 70 пайызы "
    "екі жыл ішінде шетелге кетеді. Жекеменшік курстар бұл олқылықтың бір бөлігін толтырғанымен, "
    "сұраныс ұсыныстан үш жарым есе асып түседі. Компаниялар бұл шектеулерді айналып өту үшін "
    "жергілікті GPU кластерлерін шеткі түйіндермен біріктіреді және ашық құралдарға сүйенеді. "
    "Қазақстанның 2024 жылғы жасанды интеллектіні дамыту жол картасы жергілікті деректерде модель "
    "оқытатын және отандық мамандарды жұмысқа алатын компанияларға салық жеңілдіктерін ұсынады."
)
# translated from seed 000 (Project context: Kazakh as a low-resource language)
KK_LOWRES = (
    "Қазақ тілі ресурсы аз тілдер қатарына жатады: интернеттегі мәтіндердің ішінде оның үлесі өте "
    "аз, ал жалпы мақсаттағы ірі тілдік модельдердің оқыту деректерінде қазақша мәтін пайыздың "
    "жүзден бір бөлігіне де жетпейді. Сондықтан көптеген танымал модельдер қазақ тілін шектеулі "
    "деңгейде түсінеді, грамматикалық қателер жібереді және жергілікті мәдени контексті "
    "ескермейді. Жоба осы мәселені шешу үшін қазақ тіліндегі деректердің көлемін де, сапасын да "
    "арттыруға бағытталған. Кітапханалардағы кітаптар, ғылыми жұмыстар, жаңалықтар және тіл "
    "мамандары қолмен жазған нұсқаулық–жауап жұптары бір корпусқа жиналып, тазартылады және "
    "қайталанатын мәтіндерден арылтылады."
)
# near duplicate of KK_LOWRES: 1 word changed ("өте" -> "тым"), 1 deleted ("қолмен"), ":" -> " —"
KK_LOWRES_NEAR = (
    "Қазақ тілі ресурсы аз тілдер қатарына жатады — интернеттегі мәтіндердің ішінде оның үлесі тым "
    "аз, ал жалпы мақсаттағы ірі тілдік модельдердің оқыту деректерінде қазақша мәтін пайыздың "
    "жүзден бір бөлігіне де жетпейді. Сондықтан көптеген танымал модельдер қазақ тілін шектеулі "
    "деңгейде түсінеді, грамматикалық қателер жібереді және жергілікті мәдени контексті "
    "ескермейді. Жоба осы мәселені шешу үшін қазақ тіліндегі деректердің көлемін де, сапасын да "
    "арттыруға бағытталған. Кітапханалардағы кітаптар, ғылыми жұмыстар, жаңалықтар және тіл "
    "мамандары жазған нұсқаулық–жауап жұптары бір корпусқа жиналып, тазартылады және "
    "қайталанатын мәтіндерден арылтылады."
)
# translated from seed 000 (digitization), adapted to the library use case
KK_LIBRARY = (
    "Университет кітапханасы мыңдаған кітапты цифрландыру жұмысын бастады. Кітапханашылар әр "
    "кітаптың қанша беті сканерленгенін, қай беттерде мәтін қабаты бар екенін және қай беттер "
    "оптикалық тану (OCR) арқылы өңделгенін күн сайын бақылайды. Мәтін қабаты бар беттерді қайта "
    "танудың қажеті жоқ, өйткені OCR мәтін қабатын оқудан шамамен мың есе баяу жұмыс істейді. "
    "Қазақ тіліне тән ә, ғ, қ, ң, ө, ұ, ү, һ, і әріптері дұрыс танылғанын тексеру ерекше маңызды: "
    "бұл әріптер жоғалса, сөздің мағынасы өзгеріп кетеді. Сапасы төмен беттер бөлек белгіленеді, "
    "ал олардың себебі есепте көрсетіледі."
)
# translated from seed 000 (admission-office assistant)
KK_ADMISSION = (
    "Әл-Фараби атындағы Қазақ ұлттық университетінің қабылдау комиссиясына арналған көмекші "
    "талапкерлердің жиі қойылатын сұрақтарына қазақ, орыс және ағылшын тілдерінде жауап береді. "
    "Қабылдау науқаны кезінде комиссияға күніне мыңдаған сұрақ келеді, олардың көбі құжаттар "
    "тізімі, грант конкурсы, жатақхана және оқу ақысы туралы. Көмекші жауап бермес бұрын "
    "университеттің ресми құжаттарынан тиісті үзінділерді іздеп табады және жауабын солармен "
    "негіздейді. Бұл тәсіл модельдің жалған ақпарат ойлап табу қаупін азайтады және әр жауаптың "
    "дереккөзін тексеруге мүмкіндік береді. Барлық деректер мен сұраулар журналы университеттің "
    "өз инфрақұрылымында сақталады."
)
# translated from seed 000 (newsroom agent, quantization)
KK_NEWSROOM = (
    "Жаңалықтар редакциясына арналған агент мұрағаттағы мақалаларды іздеп, журналистке қажетті "
    "фактілерді жылдам табуға көмектеседі. Агент сұраққа жауап бермес бұрын іздеу жүйесі арқылы ең "
    "жақын құжаттарды таңдайды, содан кейін тілдік модель сол құжаттарға сүйеніп қысқа анықтама "
    "жазады. Есептеу қуаты шектеулі болған жағдайда модель кванттау әдісімен сығылады: "
    "салмақтардың дәлдігі төмендетіледі, ал жауап сапасы іс жүзінде сақталады. Нәтижесінде жүйе "
    "бір ғана графикалық процессорда жұмыс істей алады және редакция деректері сыртқа шықпайды."
)
# translated from seed 000 (hallucination, RAG)
KK_HALLUCINATION = (
    "Туралау мәселесі шешілгеннен кейінгі келесі үлкен қиындық — галлюцинация. Іс жүзінде "
    "галлюцинация дегеніміз модельдің сенімді түрде, бірақ дәлелсіз немесе мүлде жоқ ақпаратты "
    "жазуы. Бұл құбылыс тілдік модельдің жауапты тек өз параметрлеріне сүйеніп құрастыратынымен "
    "тығыз байланысты: мұндай жағдайда модель тексерілетін фактілерге емес, статистикалық "
    "байланыстарға сенеді. Мұндай қателерді азайтудың кең тараған жолы — іздеу арқылы толықтырылған "
    "генерация (RAG): жүйе алдымен сенімді дереккөздерден мәтін үзінділерін іздейді, содан кейін "
    "модель жауапты солардың негізінде құрастырады."
)
# translated from seed 000 (Conclusion)
KK_CONCLUSION = (
    "Соңғы онжылдықта Қазақстандағы жасанды интеллекттің дамуы жекелеген тәжірибелерден зерттеуді, "
    "инфрақұрылымды, дағдыларды және енгізуді біріктіретін толық экожүйеге көшу ретінде "
    "сипатталады. Ел есептеу қуатын арттырып, деректерді басқару тәсілдерін жетілдіріп, адами "
    "капиталды дамытуға инвестиция салуда. Дегенмен жақын болашақтағы табыс модельдерді сенімді "
    "қызметтерге айналдыратын құрамдас бөліктерге байланысты: үнемі жаңартылып отыратын сапалы "
    "деректер, оқыту мен қызмет көрсетуге жеткілікті есептеу қуаты, эталондық бағалау және жауапты "
    "енгізу тәжірибесі. Осы элементтер бірге дамыса, Қазақстан жекелеген көрсетілімдерден "
    "мемлекеттік қызметтерге, өнеркәсіпке, білім беру мен ғылымға нақты пайда әкелетін "
    "ауқымды жүйелерге көше алады."
)

# translated from seed 004
RU_MIT = (
    "Исследование Массачусетского технологического института (MIT) впервые дает количественную "
    "картину инфраструктуры искусственного интеллекта и его внедрения в Казахстане, Узбекистане и "
    "Кыргызстане. Результаты показывают быстрый рост вычислительных мощностей, но сохраняющуюся "
    "осторожность предприятий. Исследование провела региональная программа ускорения "
    "предпринимательства MIT (REAP). Авторы сопоставили кластеры GPU, проекты по дообучению "
    "языковых моделей и долю предприятий, внедривших ИИ, в трех странах. Данные собраны из "
    "открытых тендеров, отчетов облачных провайдеров и интервью со 147 компаниями с января 2022 "
    "года по декабрь 2023 года. Мощности GPU в регионе растут на 40 процентов в год, и 68 процентов "
    "из них приходится на Казахстан. Число проектов по дообучению моделей с 2022 года выросло "
    "втрое. При этом лишь 12 процентов опрошенных компаний используют модели ИИ за пределами "
    "пилотных проектов."
)
# translated from seed 004 (Bottlenecks, Workarounds)
RU_SOVEREIGNTY = (
    "Законы о суверенитете данных требуют хранить данные внутри страны, поэтому облачные сценарии "
    "работы с искусственным интеллектом заметно усложняются. В Узбекистане закон о цифровом доверии "
    "2023 года обязывает размещать все данные государственного и финансового секторов на местных "
    "серверах. Университеты региона ежегодно выпускают около 1200 специалистов по искусственному "
    "интеллекту и машинному обучению, однако 70 процентов из них уезжают за рубеж в течение двух "
    "лет. Частные курсы частично восполняют нехватку кадров, но спрос превышает предложение в три с "
    "половиной раза. Чтобы обойти эти ограничения, компании сочетают собственные кластеры GPU с "
    "периферийными узлами и опираются на открытые инструменты. Дорожная карта развития ИИ "
    "Казахстана на 2024 год предусматривает налоговые льготы для компаний, которые обучают модели "
    "на местных данных и нанимают отечественных специалистов."
)
# near duplicate of RU_SOVEREIGNTY: whitespace/punctuation differences (double spaces, a line
# break, "—" for ",", «» quotes) and 2 words changed ("около" -> "примерно", "заметно" deleted)
RU_SOVEREIGNTY_NEAR = (
    "Законы о суверенитете данных требуют хранить данные внутри страны,  поэтому облачные сценарии "
    "работы с искусственным интеллектом усложняются. В Узбекистане закон «о цифровом доверии» "
    "2023 года обязывает размещать все данные государственного и финансового секторов на местных "
    "серверах.\nУниверситеты региона ежегодно выпускают примерно 1200 специалистов по искусственному "
    "интеллекту и машинному обучению — однако 70 процентов из них уезжают за рубеж в течение двух "
    "лет. Частные курсы частично восполняют нехватку кадров, но спрос превышает предложение в три с "
    "половиной раза.  Чтобы обойти эти ограничения, компании сочетают собственные кластеры GPU с "
    "периферийными узлами и опираются на открытые инструменты. Дорожная карта развития ИИ "
    "Казахстана на 2024 год предусматривает налоговые льготы для компаний, которые обучают модели "
    "на местных данных и нанимают отечественных специалистов!"
)
# translated from seed 000 (Kazakh as a low-resource language)
RU_LOWRES = (
    "Казахский язык относится к малоресурсным: его доля в интернете очень мала, а в обучающих "
    "данных крупных языковых моделей общего назначения казахские тексты составляют сотые доли "
    "процента. Поэтому многие популярные модели понимают казахский язык ограниченно, допускают "
    "грамматические ошибки и не учитывают местный культурный контекст. Проект направлен на то, "
    "чтобы увеличить как объем, так и качество казахоязычных данных. Книги из библиотечных фондов, "
    "научные работы, новости и пары «инструкция – ответ», написанные лингвистами вручную, "
    "собираются в единый корпус, очищаются и освобождаются от повторяющихся текстов."
)
RU_LIBRARY = (
    "Университетская библиотека начала оцифровку нескольких тысяч книг. Библиотекари ежедневно "
    "отслеживают, сколько страниц каждой книги отсканировано, на каких страницах есть текстовый "
    "слой и какие страницы прошли оптическое распознавание символов. Страницы с текстовым слоем не "
    "нужно распознавать повторно: распознавание работает примерно в тысячу раз медленнее, чем "
    "чтение текстового слоя. Особенно важно проверять, правильно ли распознаны специфические "
    "казахские буквы ә, ғ, қ, ң, ө, ұ, ү, һ, і, ведь их потеря меняет смысл слова. Страницы "
    "низкого качества помечаются отдельно, а причина отказа попадает в отчет."
)
# translated from seed 000 (admission-office assistant)
RU_ADMISSION = (
    "Ассистент приемной комиссии Казахского национального университета имени аль-Фараби отвечает "
    "на частые вопросы абитуриентов на казахском, русском и английском языках. Во время приемной "
    "кампании университет получает десятки тысяч заявлений и еще больше вопросов о программах, "
    "требованиях, сроках и будущей профессии. Абитуриентам часто трудно различить близкие "
    "специальности, например информатику, программную инженерию, науку о данных и информационные "
    "системы. Перед ответом ассистент находит нужные фрагменты в официальных документах "
    "университета и опирается на них. Все данные и журналы запросов остаются внутри "
    "инфраструктуры университета, а внешние API не используются."
)
# translated from seed 000 (hallucination, RAG)
RU_HALLUCINATION = (
    "После решения задачи выравнивания следующей серьезной проблемой становятся галлюцинации. На "
    "практике галлюцинация возникает, когда модель уверенно выдает гладкий, но ничем не "
    "подтвержденный текст, в том числе неточные или вовсе несуществующие сведения. Это связано с "
    "тем, как обычные языковые модели порождают ответы: отвечая только на основе своих параметров, "
    "модель полагается на статистические связи, а не на проверяемые факты. Распространенный способ "
    "снизить риск — сначала найти подходящие источники, а затем сформировать ответ на их основе. В "
    "этом и состоит идея генерации с дополнением поиском (RAG)."
)

# Quality-filter fodder.
KK_TOO_SHORT = "Ауа райы: бүгін Алматыда жаңбыр."  # < 50 chars
TR_PARAGRAPH = (  # Turkish in the Kazakh file: language ID should say tr, not kk
    "Kazakistan'da yapay zekâ alanındaki gelişmeler son on yılda belirgin biçimde hızlandı. Ülke "
    "hesaplama altyapısını genişletiyor, veri yönetimini iyileştiriyor ve insan kaynağına yatırım "
    "yapıyor. Ancak Kazakça, internette çok az metni bulunan düşük kaynaklı bir dil olduğu için "
    "büyük dil modelleri bu dili hâlâ sınırlı düzeyde anlıyor. Üniversite kütüphaneleri binlerce "
    "kitabı dijitalleştirerek bu açığı kapatmaya çalışıyor."
)
DE_PARAGRAPH = (  # German in the English file
    "Eine Umfrage des MIT liefert den ersten quantitativen Überblick über KI-Infrastruktur und deren "
    "Nutzung in Kasachstan, Usbekistan und Kirgisistan. Die Studie zeigt einen raschen Ausbau der "
    "Hardware, aber eine anhaltende Zurückhaltung der Unternehmen. Die Rechenkapazität mit "
    "Grafikprozessoren wächst in der Region um 40 Prozent pro Jahr, wobei Kasachstan 68 Prozent der "
    "Gesamtkapazität stellt. Nur 12 Prozent der befragten Firmen setzen KI-Modelle über die "
    "Erprobungsphase hinaus ein; die übrigen nennen regulatorische Hürden und den Mangel an "
    "Fachkräften als Hauptgründe."
)
BOILERPLATE = "\n".join([
    "Home | News | About us | Contact",
    "Cookie policy | Privacy | Terms of use | Accessibility",
    "We use cookies to improve your experience. Accept all cookies",
    "Cookie policy | Privacy | Terms of use | Accessibility",
    "Subscribe to our newsletter | Follow us | Facebook | Telegram",
    "Cookie policy | Privacy | Terms of use | Accessibility",
    "© All rights reserved. Reproduction without permission is prohibited.",
    "Cookie policy | Privacy | Terms of use | Accessibility",
    "Home | News | About us | Contact",
    "Cookie policy | Privacy | Terms of use | Accessibility",
    "Accept all cookies | Manage preferences",
    "Cookie policy | Privacy | Terms of use | Accessibility",
])

HOMOGLYPHS = {"і": "i", "о": "o"}  # Cyrillic -> look-alike Latin


def with_homoglyphs(text: str) -> str:
    """Every third word: Latin 'i'/'o' instead of Cyrillic 'і'/'о' (typical of bad OCR or copy-paste)."""
    words = text.split(" ")
    for k in range(0, len(words), 3):
        words[k] = "".join(HOMOGLYPHS.get(c, c) for c in words[k])
    return " ".join(words)


MIXED_KK_RU = "\n\n".join([
    "Құрметті оқырмандар!",
    "Әл-Фараби атындағы Қазақ ұлттық университетінің ғылыми кітапханасы сирек кітаптар қорын "
    "цифрландыру жобасын бастағанын хабарлайды. Жұмыстар кезеңінде сирек кітаптар оқу залы "
    "1 наурыздан 30 сәуірге дейін уақытша жабылады.",
    "Уважаемые читатели!",
    "Научная библиотека Казахского национального университета имени аль-Фараби сообщает о начале "
    "проекта по оцифровке фонда редких книг. На время работ читальный зал редких книг с 1 марта по "
    "30 апреля будет временно закрыт.",
    "Цифрланған кітаптардың электрондық нұсқалары кітапхананың электрондық каталогы арқылы "
    "қолжетімді болады. Мәтін қабаты жоқ беттер оптикалық тану жүйесі арқылы өңделеді, ал тану "
    "сапасын кітапханашылар тексереді.",
    "Электронные версии оцифрованных книг будут доступны через электронный каталог библиотеки. "
    "Страницы без текстового слоя обрабатываются системой оптического распознавания, а качество "
    "распознавания проверяют библиотекари.",
    "Сұрақтар бойынша кітапхананың ақпараттық бөліміне жүгінуге болады. Түсіністікпен қарағаныңыз "
    "үшін алғыс білдіреміз!",
    "По всем вопросам можно обращаться в информационный отдел библиотеки. Благодарим за понимание!",
]) + "\n"

CURATED = [
    ("cur-kk-01", "Қазақ әліпбиінің ерекше әріптері",
     "Сұрақ: Қазақ әліпбиінде орыс әліпбиінде жоқ қандай әріптер бар?\n"
     "Жауап: Қазақ тілінің кирилл әліпбиінде орыс әліпбиінде кездеспейтін тоғыз әріп бар: ә, ғ, қ, "
     "ң, ө, ұ, ү, һ және і. Бұл әріптер қазақ тіліне тән дыбыстарды белгілейді, мысалы, «қазақ», "
     "«ғылым», «өнер», «үй» сөздерінде кездеседі. Сондықтан мәтінді оптикалық тану немесе тазарту "
     "кезінде осы әріптердің сақталғанын міндетті түрде тексеру керек: олар жоғалса немесе орыс "
     "әріптерімен алмастырылса, сөздің мағынасы бұзылады."),
    ("cur-kk-02", "Жасанды интеллект дегеніміз не",
     "Сұрақ: Жасанды интеллект дегеніміз не?\n"
     "Жауап: Жасанды интеллект — адамның ойлау қабілетін қажет ететін міндеттерді орындай алатын "
     "компьютерлік жүйелерді жасаумен айналысатын ғылым саласы. Мұндай міндеттерге мәтінді түсіну, "
     "сөйлеуді тану, суреттегі нысандарды анықтау, аударма жасау және шешім қабылдау жатады. "
     "Қазіргі жүйелердің көбі үлкен деректер жиынтығынан үйренетін нейрондық желілерге негізделген. "
     "Қазақстан 2024–2029 жылдарға арналған тұжырымдамада жасанды интеллектіні цифрлық қоғам "
     "құрудың негізгі құралы ретінде белгіледі."),
    ("cur-ru-01", "Что такое OCR",
     "Вопрос: Что такое оптическое распознавание символов (OCR)?\n"
     "Ответ: Оптическое распознавание символов — это технология, которая превращает изображение "
     "страницы, например скан книги или фотографию документа, в машиночитаемый текст. Система "
     "находит на изображении строки и слова, а затем распознаёт отдельные символы. Качество "
     "результата зависит от разрешения скана, шрифта и наличия модели для нужного языка. Для "
     "казахского текста важно проверять специфические буквы ә, ғ, қ, ң, ө, ұ, ү, һ, і: модели, "
     "обученные только на русском, часто заменяют их похожими буквами."),
    ("cur-ru-02", "Зачем удалять дубликаты",
     "Вопрос: Зачем удалять дубликаты из обучающего корпуса?\n"
     "Ответ: Повторяющиеся документы занимают место в корпусе, но не добавляют новых знаний. Если "
     "модель много раз видит один и тот же текст, она начинает его запоминать, а не обобщать, и чаще "
     "воспроизводит его дословно. Поэтому сначала удаляют точные дубликаты, сравнивая хеши "
     "нормализованного текста, а затем почти дубликаты: для этого вычисляют подписи MinHash, "
     "группируют похожие документы с помощью LSH и оставляют по одному документу из каждой группы."),
    ("cur-en-01", "Why Kazakh is low-resource",
     "Question: Why is Kazakh called a low-resource language?\n"
     "Answer: A language is called low-resource when little digital text, annotated data and tooling "
     "exist for it compared with its number of speakers. Kazakh has more than ten million speakers, "
     "yet it makes up well under 0.1% of the pretraining data of common open models. As a result, "
     "general-purpose models understand it poorly, make grammatical errors and miss cultural "
     "context. Digitizing library books, collecting news and writing instruction–response pairs by "
     "hand are ways to close this gap."),
    ("cur-en-02", "Text layer before OCR",
     "Question: Why should pages that already have a text layer not be sent to OCR?\n"
     "Answer: Reading the text layer of a born-digital PDF page takes milliseconds, while OCR of the "
     "same page takes seconds, about a thousand times longer, and may introduce recognition errors. "
     "A pipeline should therefore check every page first: if it carries legible text, that text is "
     "used directly, and only pages that are images, or whose text layer is empty or garbled, are "
     "rendered and passed to the OCR engine."),
]

# ---------------------------------------------------------------------------
# Similarity (used to check the planted near-duplicates are near, and documented)
# ---------------------------------------------------------------------------


def word_shingles(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: str, b: str, n: int) -> float:
    sa, sb = word_shingles(a, n), word_shingles(b, n)
    return len(sa & sb) / len(sa | sb)


# ---------------------------------------------------------------------------
# Text layout shared by the born-digital PDFs and the rendered scans
# ---------------------------------------------------------------------------

PAGE_W, PAGE_H = 420.0, 595.0  # A5 in points
MARGIN_X = 48.0
BODY_TOP, BODY_BOTTOM = 72.0, 540.0
BODY_SIZE, LEADING = 10.5, 14.5
HEAD_SIZE = 12.0


def _split_points(core: str) -> list[int]:
    """Syllable-like hyphenation points: before a consonant that starts a consonant+vowel syllable."""
    low = core.lower()
    pts = []
    for p in range(2, len(low) - 1):
        if (low[p] not in VOWELS and low[p] not in "ьъй" and low[p + 1] in VOWELS
                and any(c in VOWELS for c in low[:p])):
            pts.append(p)
    return pts


class Typesetter:
    def __init__(self, fitz_mod):
        self.fitz = fitz_mod
        self.font = fitz_mod.Font(fontfile=str(FONT_REGULAR))
        self.bold = fitz_mod.Font(fontfile=str(FONT_BOLD))
        self.hyphenations: list[str] = []
        self._adv: dict[str, float] = {}
        self._adv_bold: dict[str, float] = {}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        # Sum of glyph advances, as Font.text_length computes it, with a per-character cache
        # (text_length itself is slow enough to dominate the run time).
        font, cache = (self.bold, self._adv_bold) if bold else (self.font, self._adv)
        total = 0.0
        for c in text:
            adv = cache.get(c)
            if adv is None:
                adv = cache[c] = font.text_length(c, fontsize=1.0)
            total += adv
        return total * size

    def wrap(self, text: str, size: float, width: float, indent: float = 0.0, bold: bool = False,
             hyphenate: bool = True) -> list[str]:
        lines: list[str] = []
        line = ""
        avail = width - indent
        words = text.split()
        i = 0
        while i < len(words):
            word = words[i]
            cand = f"{line} {word}" if line else word
            if self.width(cand, size, bold) <= avail:
                line, i = cand, i + 1
                continue
            m = re.match(r"^(\w+)(\W*)$", word)
            # Hyphenate only when the line would otherwise stay visibly short, as a typesetter would.
            if (hyphenate and line and m and len(m.group(1)) >= 7 and "-" not in word
                    and self.width(line, size, bold) < 0.9 * avail):
                core, tail = m.group(1), m.group(2)
                for p in reversed(_split_points(core)):
                    head = f"{line} {core[:p]}-"
                    if self.width(head, size, bold) <= avail:
                        lines.append(head)
                        self.hyphenations.append(f"{core[:p]}-|{core[p:]}")
                        words[i] = core[p:] + tail
                        line, avail = "", width
                        break
                else:
                    m = None
                if m is not None:
                    continue
            if not line:  # a single word wider than the line: put it alone
                line, i = word, i + 1
            lines.append(line)
            line, avail = "", width
        if line:
            lines.append(line)
        return lines

    def paginate(self, blocks: list[tuple[str, str]]) -> list[list[tuple[float, float, str, float, bool]]]:
        """blocks: (kind, text) with kind 'h' (heading) or 'p' (paragraph).

        Returns pages of (x, baseline_y, text, size, bold) in points."""
        body_w = PAGE_W - 2 * MARGIN_X
        pages: list[list] = [[]]
        y = BODY_TOP
        for kind, text in blocks:
            if kind == "h":
                lines = self.wrap(text, HEAD_SIZE, body_w, bold=True, hyphenate=False)
                need = 8 + len(lines) * (LEADING + 2) + 4 + 2 * LEADING  # keep with next lines
                if y + need > BODY_BOTTOM and pages[-1]:
                    pages.append([])
                    y = BODY_TOP
                y += 8 if pages[-1] else 0
                for ln in lines:
                    y += LEADING + 2
                    pages[-1].append((MARGIN_X, y, ln, HEAD_SIZE, True))
                y += 4
            else:
                for j, ln in enumerate(self.wrap(text, BODY_SIZE, body_w, indent=16.0)):
                    if y + LEADING > BODY_BOTTOM:
                        pages.append([])
                        y = BODY_TOP
                    y += LEADING
                    pages[-1].append((MARGIN_X + (16.0 if j == 0 else 0.0), y, ln, BODY_SIZE, False))
                y += 3
        return pages


def running_header(title: str) -> tuple[str, float]:
    return title, 8.0


# ---------------------------------------------------------------------------
# PDF and scan rendering
# ---------------------------------------------------------------------------

SCAN_DPI = 300


def render_scan(lines, header: str, page_no: int, rng: random.Random) -> tuple[bytes, str]:
    """Render laid-out lines to a grayscale 300 dpi PNG like a scanned page; return (png, text)."""
    from PIL import Image, ImageDraw, ImageFont

    s = SCAN_DPI / 72.0
    img = Image.new("L", (round(PAGE_W * s), round(PAGE_H * s)), 255)
    draw = ImageDraw.Draw(img)
    fonts: dict = {}

    def font(size, bold):
        key = (size, bold)
        if key not in fonts:
            fonts[key] = ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), round(size * s))
        return fonts[key]

    ink = 20  # a scan is never pure black
    hsize = running_header(header)[1]
    hf = font(hsize, False)
    draw.text((PAGE_W * s / 2, 32 * s), header, font=hf, fill=ink, anchor="ms")
    draw.line([(MARGIN_X * s, 38 * s), ((PAGE_W - MARGIN_X) * s, 38 * s)], fill=ink, width=2)
    for x, y, text, size, bold in lines:
        draw.text((x * s, y * s), text, font=font(size, bold), fill=ink, anchor="ls")
    draw.text((PAGE_W * s / 2, 570 * s), str(page_no), font=font(9.0, False), fill=ink, anchor="ms")
    # Slight skew and dust specks: enough to look scanned, few enough to keep the file small.
    img = img.rotate(0.35, resample=Image.Resampling.BICUBIC, fillcolor=255)
    draw = ImageDraw.Draw(img)
    for _ in range(400):
        x, y = rng.randrange(img.width), rng.randrange(img.height)
        r = rng.choice((1, 1, 1, 2, 3))
        draw.ellipse([x, y, x + r, y + r], fill=rng.randrange(60, 200))
    # Four gray levels keep the anti-aliased look yet compress like a bilevel scan
    # (a 300 dpi JPEG of a text page is ~400 KB, this PNG ~130 KB).
    img = img.point(lambda v: round(v / 85) * 85)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # MuPDF re-compresses it anyway
    text = "\n".join([header] + [t for _, _, t, _, _ in lines] + [str(page_no)])
    return buf.getvalue(), text


class PdfBuilder:
    def __init__(self, fitz_mod, ts: Typesetter, title: str, author: str, lang: str):
        self.fitz = fitz_mod
        self.ts = ts
        self.doc = fitz_mod.open()
        self.title, self.author, self.lang = title, author, lang
        self.ground_truth: list[tuple[int, str]] = []

    def _page(self):
        page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        page.insert_font(fontname="dv", fontfile=str(FONT_REGULAR))
        page.insert_font(fontname="dvb", fontfile=str(FONT_BOLD))
        return page

    def title_page(self, subtitle: str, place_year: str):
        page = self._page()
        y = 190.0
        for ln in self.ts.wrap(self.title, 17.0, PAGE_W - 2 * MARGIN_X - 20, bold=True, hyphenate=False):
            w = self.ts.width(ln, 17.0, bold=True)
            page.insert_text(((PAGE_W - w) / 2, y), ln, fontname="dvb", fontsize=17.0)
            y += 24
        y += 16
        for ln in self.ts.wrap(subtitle, 11.0, PAGE_W - 2 * MARGIN_X - 20, hyphenate=False):
            w = self.ts.width(ln, 11.0)
            page.insert_text(((PAGE_W - w) / 2, y), ln, fontname="dv", fontsize=11.0)
            y += 16
        w = self.ts.width(self.author, 11.0)
        page.insert_text(((PAGE_W - w) / 2, 120.0), self.author, fontname="dv", fontsize=11.0)
        w = self.ts.width(place_year, 10.0)
        page.insert_text(((PAGE_W - w) / 2, 540.0), place_year, fontname="dv", fontsize=10.0)

    def _header(self, page):
        header, hsize = running_header(self.title)
        w = self.ts.width(header, hsize)
        page.insert_text(((PAGE_W - w) / 2, 32.0), header, fontname="dv", fontsize=hsize)
        page.draw_line((MARGIN_X, 38.0), (PAGE_W - MARGIN_X, 38.0), color=(0, 0, 0), width=0.5)

    def _footer(self, page, page_no: int):
        num = str(page_no)
        w = self.ts.width(num, 9.0)
        page.insert_text(((PAGE_W - w) / 2, 570.0), num, fontname="dv", fontsize=9.0)

    def text_page(self, lines):
        page = self._page()
        self._header(page)
        for x, y, text, size, bold in lines:
            page.insert_text((x, y), text, fontname="dvb" if bold else "dv", fontsize=size)
        self._footer(page, self.doc.page_count)

    def scan_page(self, lines, rng: random.Random):
        page = self.doc.new_page(width=PAGE_W, height=PAGE_H)
        png, text = render_scan(lines, self.title, self.doc.page_count, rng)
        page.insert_image(page.rect, stream=png)
        self.ground_truth.append((self.doc.page_count, text))

    def save(self, path: Path) -> bytes:
        self.doc.set_metadata({
            "title": self.title, "author": self.author, "subject": "", "keywords": "",
            "creator": "qazflow scripts/make_samples.py", "producer": "",
            "creationDate": "", "modDate": "", "trapped": "",
        })
        self.doc.subset_fonts()
        data = self.doc.tobytes(garbage=4, deflate=True, clean=True, use_objstms=1, no_new_id=True)
        path.write_bytes(data)
        return data


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))


def check_doc(text: str, lang: str, lo: int = 400, hi: int = 3000) -> None:
    assert lo <= len(text) <= hi, (lang, len(text), text[:60])
    if lang == "kk":
        assert sum(c in KK_LETTERS for c in text) >= 10, text[:60]


def build(seeds: Path, out: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pymupdf as fitz

    for f in (FONT_REGULAR, FONT_BOLD):
        if not f.exists():
            sys.exit(f"make_samples: font {f} missing (apt-get install fonts-dejavu-core)")

    paras, news_raw = seed_paragraphs(seeds)
    kk_abstract = pick(paras, "Аннотация. Жасанды интеллекттің")
    kk_keywords = pick(paras, "Түйін сөздер:")
    kk_title = "Соңғы он жылдықта Қазақстанда жасанды интеллекттің дамуы: кешенді шолу"
    ru_abstract = pick(paras, "Аннотация. Влияние") + " " + pick(paras, "Анализ согласован")
    ru_keywords = pick(paras, "Ключевые слова:")
    en = {
        "news": news_text(news_raw),
        "intro": pick(paras, "Artificial intelligence (AI) has progressed") + "\n"
        + pick(paras, "Similarly, AI research in Kazakhstan"),
        "industry": pick(paras, "Beyond research, AI is already"),
        "inference": pick(paras, "Inference has emerged"),
        "ecosystem": pick(paras, "Against this global backdrop") + "\n"
        + pick(paras, "One representative entry point"),
        "data": pick(paras, "The project therefore focuses") + "\n"
        + pick(paras, "To produce instruction data"),
        "admission": pick(paras, "The admission-office assistant"),
        "discussion": pick(paras, "The evidence reviewed in this paper") + "\n"
        + pick(paras, "At the same time, the main bottleneck"),
    }
    # near duplicate of en["inference"]: 1 word changed, 2 inserted, a parenthesis of 5 words deleted
    en_inference_near = (
        en["inference"]
        .replace("has emerged as a dominant driver", "has become a dominant driver")
        .replace("can rival or exceed", "can rival or even exceed")
        .replace("low-precision quantization (for example 8-bit and 4-bit)", "low-precision quantization")
        .replace("Safety layers add moderation", "Safety layers also add moderation")
    )
    assert en_inference_near != en["inference"]

    text_dir, books_dir, bad_dir, gt_dir = (out / d for d in ("text", "books", "bad", "ground_truth"))
    for d in (text_dir, books_dir, bad_dir, gt_dir):
        d.mkdir(parents=True, exist_ok=True)

    # ---------------- text/ ----------------
    kk_doc1 = kk_abstract + "\n" + kk_keywords  # real seed text
    kk_records = [
        {"id": "kk-0001", "title": kk_title, "text": kk_doc1},
        {"id": "kk-0002", "title": "MIT зерттеуі: Орталық Азиядағы жасанды интеллект", "text": KK_MIT},
        {"id": "kk-0003", "title": "Зерттеудің негізгі қорытындылары", "text": KK_FINDINGS},
        {"id": "kk-0004", "title": "Қазақ тілі — ресурсы аз тіл", "text": KK_LOWRES},
        {"id": "kk-0005", "title": "Кітапхана қорын цифрландыру", "text": KK_LIBRARY},
        # no "id": the pipeline falls back to file + line (line 6)
        {"title": "Талапкерлерге арналған көмекші", "text": KK_ADMISSION},
        {"id": "kk-0006", "title": "Редакцияға арналған агент", "text": KK_NEWSROOM},
        {"id": "kk-0007", "title": "Қазақ тілі ресурсы аз тілдер қатарында", "text": KK_LOWRES_NEAR},
        # Latin homoglyphs: 'i' (U+0069) for 'і' and 'o' (U+006F) for 'о' in every third word
        {"id": "kk-0008", "title": "Галлюцинация және RAG", "text": with_homoglyphs(KK_HALLUCINATION)},
        # no "id" (line 10)
        {"title": "Деректер егемендігі және мамандар", "text": KK_SOVEREIGNTY},
        {"id": "kk-0009", "title": "Қорытынды", "text": KK_CONCLUSION},
        {"id": "kk-0010", "title": "Ауа райы", "text": KK_TOO_SHORT},  # too short
        {"id": "kk-0011", "title": "Yapay zekâ", "text": TR_PARAGRAPH},  # Turkish, not Kazakh
    ]
    ru_records = [
        {"id": "ru-0001", "title": "Развитие искусственного интеллекта в Казахстане: аннотация",
         "text": ru_abstract + "\n" + ru_keywords},  # real seed text
        {"id": "ru-0002", "title": "Исследование MIT: ИИ в Центральной Азии", "text": RU_MIT},
        {"id": "ru-0003", "title": "Суверенитет данных и кадры", "text": RU_SOVEREIGNTY},
        {"id": "ru-0004", "title": "Казахский — малоресурсный язык", "text": RU_LOWRES},
        {"id": "ru-0005", "title": "Оцифровка библиотечного фонда", "text": RU_LIBRARY},
        {"id": "ru-0006", "title": "Ассистент приемной комиссии", "text": RU_ADMISSION},
        {"id": "ru-0007", "title": "Исследование MIT: ИИ в Центральной Азии", "text": RU_MIT},  # = ru-0002
        {"id": "ru-0008", "title": "Суверенитет данных и кадры", "text": RU_SOVEREIGNTY_NEAR},  # ~ ru-0003
        {"id": "ru-0009", "title": "Галлюцинации и RAG", "text": RU_HALLUCINATION},
    ]
    en_records = [
        {"id": "en-0001", "title": "MIT survey maps AI infrastructure in Central Asia", "text": en["news"]},
        {"id": "en-0002", "title": "From early foundations to national language models", "text": en["intro"]},
        {"id": "en-0003", "title": "AI in Kazakhstan's industry", "text": en["industry"]},
        {"id": "en-0004", "title": "Inference drives the cost of LLMs", "text": en["inference"]},
        {"id": "en-0005", "title": "Kazakhstan's open LLM ecosystem", "text": en["ecosystem"]},
        {"id": "en-0006", "title": "Kazakh data for LLM training", "text": en["data"]},
        {"id": "en-0007", "title": "An admission-office assistant", "text": en["admission"]},
        {"id": "en-0008", "title": "Inference drives the cost of LLMs", "text": en_inference_near},  # ~ en-0004
        # no "id" (line 9): exact duplicate of en-0002
        {"title": "From early foundations to national language models", "text": en["intro"]},
        {"id": "en-0009", "title": "Discussion", "text": en["discussion"]},
        {"id": "en-0010", "title": "Subscribe", "text": BOILERPLATE},  # boilerplate
        {"id": "en-0011", "title": "KI in Zentralasien", "text": DE_PARAGRAPH},  # German
    ]
    special = {"kk-0010", "kk-0011", "en-0010", "en-0011"}
    for lang, recs in (("kk", kk_records), ("ru", ru_records), ("en", en_records)):
        for r in recs:
            if r.get("id") not in special:
                check_doc(r["text"], lang)
    write_jsonl(text_dir / "kk_news.jsonl", kk_records)
    write_jsonl(text_dir / "ru_articles.jsonl", ru_records)
    write_jsonl(text_dir / "en_articles.jsonl", en_records)
    (text_dir / "mixed_kk_ru.txt").write_bytes(MIXED_KK_RU.encode("utf-8"))

    curated = CURATED + [("cur-kk-03", kk_records[4]["title"], kk_records[4]["text"])]  # = kk-0005
    table = pa.table(
        {"id": [c[0] for c in curated], "text": [c[2] for c in curated], "title": [c[1] for c in curated]},
        schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("title", pa.string())]),
    )
    pq.write_table(table, text_dir / "curated.parquet", compression="zstd")

    # ---------------- books/ ----------------
    ts = Typesetter(fitz)
    rng = random.Random(20240301)

    kk_book = PdfBuilder(fitz, ts, "Жасанды интеллект және қазақ тілі", "Құрастырушылар ұжымы", "kk")
    kk_book.title_page("Мақалалар жинағы: деректерден тілдік модельге дейін", "Алматы — 2024")
    kk_pages = ts.paginate([
        ("h", "1-тарау. Кешенді шолу"), ("p", kk_abstract), ("p", kk_keywords),
        ("h", "2-тарау. Қазақ тілінің деректері"), ("p", KK_LOWRES), ("p", KK_LIBRARY),
        ("h", "3-тарау. Аймақтағы зерттеулер"), ("p", KK_MIT), ("p", KK_FINDINGS), ("p", KK_SOVEREIGNTY),
    ])
    for lines in kk_pages:
        kk_book.text_page(lines)
    n_hyph_kk = len(ts.hyphenations)
    assert n_hyph_kk >= 1, "the Kazakh book must have a word hyphenated across a line break"
    kk_book.save(books_dir / "born_digital_kk.pdf")
    assert 3 <= kk_book.doc.page_count <= 5, kk_book.doc.page_count

    ru_book = PdfBuilder(fitz, ts, "Искусственный интеллект в Казахстане", "Коллектив авторов", "ru")
    ru_book.title_page("Обзор и прикладные проекты", "Алматы — 2023")
    for lines in ts.paginate([
        ("h", "Глава 1. Обзор"), ("p", ru_abstract), ("p", ru_keywords),
        ("h", "Глава 2. Казахский язык и данные"), ("p", RU_LOWRES), ("p", RU_LIBRARY),
    ]):
        ru_book.text_page(lines)
    ru_pdf = ru_book.save(books_dir / "born_digital_ru.pdf")
    assert 2 <= ru_book.doc.page_count <= 3, ru_book.doc.page_count

    ocr_truth = []
    scan_book = PdfBuilder(fitz, ts, "Тілдік модельдер: қолданбалы жобалар", "Құрастырушылар ұжымы", "kk")
    scan_pages = ts.paginate([("h", "Талапкерлерге арналған көмекші"), ("p", KK_ADMISSION),
                              ("h", "Деректер егемендігі"), ("p", KK_SOVEREIGNTY)])
    scan_pages += ts.paginate([("h", "Редакцияға арналған агент"), ("p", KK_NEWSROOM),
                               ("h", "Галлюцинация"), ("p", KK_HALLUCINATION)])
    assert len(scan_pages) == 2, len(scan_pages)
    for lines in scan_pages:
        scan_book.scan_page(lines, rng)
    scan_book.save(books_dir / "scanned_kk.pdf")
    ocr_truth += [{"file": "books/scanned_kk.pdf", "page": p, "lang": "kk", "text": t}
                  for p, t in scan_book.ground_truth]

    mixed = PdfBuilder(fitz, ts, "Ақпараттық жүйелер: жинақ", "Құрастырушылар ұжымы", "kk")
    mixed_pages = [
        ts.paginate([("h", "Кітапхана қорын цифрландыру"), ("p", KK_LIBRARY)])[0],
        ts.paginate([("h", "Зерттеудің негізгі қорытындылары"), ("p", KK_FINDINGS)])[0],
        ts.paginate([("h", "Қорытынды"), ("p", KK_CONCLUSION)])[0],
    ]
    mixed.text_page(mixed_pages[0])
    mixed.scan_page(mixed_pages[1], rng)
    mixed.text_page(mixed_pages[2])
    mixed.save(books_dir / "mixed_scan.pdf")
    ocr_truth += [{"file": "books/mixed_scan.pdf", "page": p, "lang": "kk", "text": t}
                  for p, t in mixed.ground_truth]
    write_jsonl(gt_dir / "ocr_pages.jsonl", ocr_truth)

    catalog = [
        ("KZ-BK-0001", "Жасанды интеллект және қазақ тілі", "Құрастырушылар ұжымы", "2024", "kk",
         "science", "born_digital_kk.pdf"),
        ("KZ-BK-0002", "Искусственный интеллект в Казахстане", "Коллектив авторов", "2023", "ru",
         "science", "born_digital_ru.pdf"),
        ("KZ-BK-0003", "Тілдік модельдер: қолданбалы жобалар", "Құрастырушылар ұжымы", "1998", "kk",
         "rare_books", "scanned_kk.pdf"),
        ("KZ-BK-0004", "Ақпараттық жүйелер: жинақ", "Құрастырушылар ұжымы", "2005", "kk",
         "periodicals", "mixed_scan.pdf"),
        # catalogued, not scanned yet: the file is intentionally absent (status "queued")
        ("KZ-BK-0005", "Абай жолы. 1-кітап", "Мұхтар Әуезов", "1942", "kk", "rare_books",
         "abai_zholy_1.pdf"),
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["book_id", "title", "author", "year", "language", "collection", "file"])
    w.writerows(catalog)
    (books_dir / "catalog.csv").write_bytes(buf.getvalue().encode("utf-8"))

    # ---------------- bad/ ----------------
    bad_rng = random.Random(1251)
    good = [
        {"id": "bad-0001", "title": "Жақсы жазба", "text": KK_NEWSROOM},
        {"id": "bad-0002", "title": "Хорошая запись", "text": RU_ADMISSION},
        {"id": "bad-0006", "title": "A good record", "text": en["admission"]},
    ]
    malformed_lines = [
        json.dumps(good[0], ensure_ascii=False),
        json.dumps(good[1], ensure_ascii=False),
        json.dumps({"id": "bad-0003", "title": "Үзілген жол", "text": KK_CONCLUSION}, ensure_ascii=False)[:90],
        json.dumps(["bad-0004", "JSON array, not an object", RU_LOWRES], ensure_ascii=False),
        json.dumps({"id": "bad-0005", "title": "Мәтіні жоқ жазба", "body": KK_FINDINGS}, ensure_ascii=False),
        json.dumps(good[2], ensure_ascii=False),
    ]
    (bad_dir / "malformed.jsonl").write_bytes(("\n".join(malformed_lines) + "\n").encode("utf-8"))
    # A .txt.gz that lost its .gz: binary, not text in any encoding (a cp1251 .txt is read).
    gzipped_text = pick(paras, "Аннотация. Влияние") + "\n"
    (bad_dir / "gzipped.txt").write_bytes(gzip.compress(gzipped_text.encode("cp1251"), mtime=0))
    (bad_dir / "empty.txt").write_bytes(b"")
    (bad_dir / "corrupt.pdf").write_bytes(ru_pdf[:2048] + bad_rng.randbytes(6 * 1024))
    (bad_dir / "not_a_pdf.pdf").write_bytes(bad_rng.randbytes(4 * 1024))

    # ---------------- expectations ----------------
    near = [
        ("text/kk_news.jsonl", "kk-0004", "text/kk_news.jsonl", "kk-0007", KK_LOWRES, KK_LOWRES_NEAR,
         "1 word changed, 1 deleted, ':' replaced by ' —'"),
        ("text/ru_articles.jsonl", "ru-0003", "text/ru_articles.jsonl", "ru-0008", RU_SOVEREIGNTY,
         RU_SOVEREIGNTY_NEAR, "whitespace/punctuation/quotes differ, 1 word changed, 1 deleted"),
        ("text/en_articles.jsonl", "en-0004", "text/en_articles.jsonl", "en-0008", en["inference"],
         en_inference_near, "1 word changed, 2 inserted, a 5-word parenthesis deleted"),
    ]
    near_out = []
    for fa, ia, fb, ib, ta, tb, what in near:
        j3, j5 = jaccard(ta, tb, 3), jaccard(ta, tb, 5)
        assert ta != tb and 0.7 <= j5 < 1.0, (ia, ib, j5)
        near_out.append({"a": {"file": fa, "id": ia}, "b": {"file": fb, "id": ib}, "change": what,
                         "jaccard_word3": round(j3, 3), "jaccard_word5": round(j5, 3)})
    expected = {
        "exact_duplicates": [
            {"a": {"file": "text/kk_news.jsonl", "id": "kk-0005"}, "b": {"file": "text/curated.parquet", "id": "cur-kk-03"}},
            {"a": {"file": "text/ru_articles.jsonl", "id": "ru-0002"}, "b": {"file": "text/ru_articles.jsonl", "id": "ru-0007"}},
            {"a": {"file": "text/en_articles.jsonl", "id": "en-0002"}, "b": {"file": "text/en_articles.jsonl", "line": 9}},
        ],
        "near_duplicates": near_out,
        "expected_rejections": [
            {"file": "text/kk_news.jsonl", "id": "kk-0010", "why": "too_short", "n_chars": len(KK_TOO_SHORT)},
            {"file": "text/en_articles.jsonl", "id": "en-0010", "why": "boilerplate"},
            {"file": "text/kk_news.jsonl", "id": "kk-0011", "why": "language", "actual_lang": "tr"},
            {"file": "text/en_articles.jsonl", "id": "en-0011", "why": "language", "actual_lang": "de"},
            {"file": "text/kk_news.jsonl", "id": "kk-0008", "why": "homoglyphs",
             "note": "Latin i/o inside Cyrillic words; normalize may repair it instead of rejecting"},
        ],
        "records_without_id": [
            {"file": "text/kk_news.jsonl", "line": 6}, {"file": "text/kk_news.jsonl", "line": 10},
            {"file": "text/en_articles.jsonl", "line": 9},
        ],
        "bad_inputs": {
            "bad/malformed.jsonl": {"good_lines": [1, 2, 6], "broken_lines": {"3": "truncated JSON",
                                    "4": "JSON array, not an object", "5": "no text field"}},
            "bad/gzipped.txt": "a gzip file named .txt: binary, neither UTF-8 nor a Cyrillic code page",
            "bad/empty.txt": "zero bytes",
            "bad/corrupt.pdf": "first 2 KB of born_digital_ru.pdf followed by random bytes",
            "bad/not_a_pdf.pdf": "random bytes",
        },
        "books": {
            "books/born_digital_kk.pdf": {"pages": kk_book.doc.page_count, "text_layer": "all",
                                          "hyphenated_words": n_hyph_kk},
            "books/born_digital_ru.pdf": {"pages": ru_book.doc.page_count, "text_layer": "all"},
            "books/scanned_kk.pdf": {"pages": scan_book.doc.page_count, "text_layer": "none"},
            "books/mixed_scan.pdf": {"pages": mixed.doc.page_count, "text_layer": [1, 3], "image_only": [2]},
            "missing_from_catalog": {"book_id": "KZ-BK-0005", "file": "books/abai_zholy_1.pdf"},
        },
    }
    (out / "expected.json").write_bytes((json.dumps(expected, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    (out / "README.md").write_bytes(readme(expected).encode("utf-8"))
    return expected


def readme(exp: dict) -> str:
    near = "\n".join(
        f"- `{n['a']['id']}` ~ `{n['b']['id']}` ({n['a']['file']}): {n['change']}; "
        f"word-3-gram Jaccard {n['jaccard_word3']}, word-5-gram {n['jaccard_word5']}"
        for n in exp["near_duplicates"])
    b = exp["books"]
    return f"""# samples/ — bundled demo inputs

Generated by `scripts/make_samples.py` from the seed texts in `../shared/seeds`
(do not edit by hand; rerun the script, it is deterministic). Kazakh and Russian
texts are the seeds' own abstracts plus close translations of passages of the
English seeds. `expected.json` lists the same facts for tests.

## text/
| file | what it demonstrates |
| --- | --- |
| `kk_news.jsonl` | 13 records `{{"id","title","text"}}`: 11 Kazakh documents (seed abstract + translations; lines 6 and 10 have no `id`, so source_id = file + line) and 2 planted rejections (`kk-0010`, `kk-0011`) |
| `ru_articles.jsonl` | 9 Russian documents (seed abstract + translations), one exact and one near duplicate |
| `en_articles.jsonl` | 12 records: 10 English documents from the seeds (line 9 has no `id`) and 2 planted rejections (`en-0010`, `en-0011`) |
| `mixed_kk_ru.txt` | one TXT document (bilingual library notice), Kazakh and Russian paragraphs alternating |
| `curated.parquet` | 7 instruction–response pairs (`Сұрақ:/Жауап:`, `Вопрос:/Ответ:`, `Question:/Answer:`), columns id, text, title |

## books/
| file | what it demonstrates |
| --- | --- |
| `born_digital_kk.pdf` | {b['books/born_digital_kk.pdf']['pages']} pages, text layer, Kazakh: title page, running header (book title), page numbers at the bottom, {b['books/born_digital_kk.pdf']['hyphenated_words']} words hyphenated across line breaks |
| `born_digital_ru.pdf` | {b['books/born_digital_ru.pdf']['pages']} pages, text layer, Russian, same layout |
| `scanned_kk.pdf` | {b['books/scanned_kk.pdf']['pages']} image-only pages (300 dpi grayscale PNG, 4 gray levels, slight skew and specks), Kazakh: needs OCR; ground truth in `ground_truth/ocr_pages.jsonl` |
| `mixed_scan.pdf` | 3 pages: 1 and 3 have a text layer, 2 is image-only (only page 2 should be OCR'd) |
| `catalog.csv` | book_id,title,author,year,language,collection,file; one row per PDF plus `KZ-BK-0005` whose file is absent (status "queued") |

## Planted duplicates
Exact (identical text):
- `kk-0005` (text/kk_news.jsonl) = `cur-kk-03` (text/curated.parquet)
- `ru-0002` = `ru-0007` (text/ru_articles.jsonl, different ids)
- `en-0002` = line 9 without id (text/en_articles.jsonl)

Near:
{near}

## Expected rejections
- `kk-0010`: too short (< 50 characters)
- `en-0010`: boilerplate (repeated "Cookie policy | Privacy | Terms of use" lines)
- `kk-0011`: Turkish paragraph in the Kazakh file; `en-0011`: German paragraph in the English file (language ID)
- `kk-0008`: Kazakh with Latin homoglyphs (`i` for `і`, `o` for `о` in every third word): normalization should repair or a filter flag it

## bad/
| file | what is wrong |
| --- | --- |
| `malformed.jsonl` | lines 1, 2, 6 good; 3 truncated JSON; 4 a JSON array; 5 a record without `text` |
| `gzipped.txt` | a gzip file named `.txt`: binary, neither UTF-8 nor a Cyrillic code page (a cp1251 or KZ-1048 `.txt` is read) |
| `empty.txt` | zero bytes |
| `corrupt.pdf` | the first 2 KB of a real PDF followed by random bytes |
| `not_a_pdf.pdf` | random bytes |
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help=f"seed texts (default {DEFAULT_SEEDS})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    build(args.seeds, args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"make_samples: wrote {args.out} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
