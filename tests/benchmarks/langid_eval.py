"""Language ID on held-out text: qazflow's FastTextLangID vs raw lid.176.

    python tests/benchmarks/langid_eval.py [--quick]

Text comes from `_langid_corpus` (Thunderbird language packs, CLDR via babel, Tesseract's
word lists: never the repository's samples nor the hunspell lists the operator uses).
A short text that appears word for word in another language's material is dropped: it
has no single right answer. Prints and writes (results/langid_eval.json) per-language
precision and recall and the confusion matrix, short (< 60 characters) and long texts
apart; the targets: Kazakh recall >= 0.99 long and >= 0.97 short, Kazakh precision
>= 0.995 against ru/uk/ky/tt/ba.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.benchmarks._langid_corpus import (LANGUAGES, available, cldr_names, samples,  # noqa: E402
                                             thunderbird_strings)
from operators.text.langid import FastTextLangID  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
RIVALS = ("ru", "uk", "ky", "tt", "ba")


def corpus(n: int) -> dict[str, list[tuple[str, str, str]]]:
    """{"short"|"long": [(true lang, source, text)]}, ambiguous short texts dropped: those that
    another language's material has word for word (all its UI strings and CLDR names, not
    only the ones sampled: "Багама аралдары" is Kyrgyz and Kazakh alike)."""
    per_lang = {lang: samples(lang, n) for lang in LANGUAGES}
    owners = defaultdict(set)
    for lang, s in per_lang.items():
        for text in (*thunderbird_strings(lang), *cldr_names(lang), *(text for _, text in s["short"])):
            owners[text.lower()].add(lang)
    out = {"short": [], "long": []}
    for lang, s in per_lang.items():
        for kind in ("short", "long"):
            out[kind] += [(lang, source, text) for source, text in s[kind]
                          if kind == "long" or len(owners[text.lower()]) == 1]
    return out


def scores(pairs: list[tuple[str, str]]) -> dict:
    """pairs of (true, predicted) → per-language precision/recall, kk precision vs rivals, confusion."""
    confusion = defaultdict(Counter)
    for true, predicted in pairs:
        confusion[true][predicted] += 1
    per_lang = {}
    for lang in LANGUAGES:
        tp = confusion[lang][lang]
        predicted = sum(c[lang] for c in confusion.values())
        actual = sum(confusion[lang].values())
        per_lang[lang] = {"n": actual, "recall": round(tp / actual, 4) if actual else None,
                          "precision": round(tp / predicted, 4) if predicted else None}
    kk_as = sum(confusion["kk"].values())
    rivals_as_kk = sum(confusion[r]["kk"] for r in RIVALS)
    kk_precision_rivals = confusion["kk"]["kk"] / (confusion["kk"]["kk"] + rivals_as_kk) if kk_as else None
    return {"per_lang": per_lang, "kk_precision_vs_rivals": round(kk_precision_rivals, 4),
            "rivals_labelled_kk": {r: confusion[r]["kk"] for r in RIVALS},
            "kk_labelled_as": dict(confusion["kk"].most_common()),
            "confusion": {t: dict(c.most_common()) for t, c in confusion.items()}}


def per_source(pairs: list[tuple[str, str]]) -> dict:
    """Kazakh recall and the rivals labelled kk on one source's texts: Tesseract's word lists
    are noisy (its kir list has Kazakh words spelt without Kazakh's letters), the UI strings
    and CLDR names are translators' work."""
    kk = [lang for true, lang in pairs if true == "kk"]
    rivals = Counter(true for true, lang in pairs if lang == "kk" and true in RIVALS)
    hits = kk.count("kk")
    return {"kk_n": len(kk), "kk_recall": round(hits / len(kk), 4) if kk else None,
            "rivals_labelled_kk": dict(rivals),
            "kk_precision_vs_rivals": round(hits / (hits + sum(rivals.values())), 4) if hits else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100 texts per language, source and length")
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    n = 100 if args.quick else args.n
    data = corpus(n)
    ours = FastTextLangID()
    results = {"sources": available(), "n_per_source": n, "by_length": {}}
    for kind, rows in data.items():
        raw, qaz, by_source = [], [], defaultdict(list)
        started = time.perf_counter()
        for true, _, text in rows:
            raw.append((true, ours.predict(text)[0]))
        raw_s = time.perf_counter() - started
        started = time.perf_counter()
        misses = []
        for true, source, text in rows:
            lang, _, _, evidence = ours.identify_with_evidence(text)
            qaz.append((true, lang))
            by_source[source].append((true, lang))
            if (true == "kk") != (lang == "kk") and len(misses) < 25:
                misses.append({"true": true, "got": lang, "source": source, "text": text[:120],
                               "evidence": json.loads(evidence)})
        qaz_s = time.perf_counter() - started
        results["by_length"][kind] = {"n": len(rows), "lid176": scores(raw), "qazflow": scores(qaz),
                                      "qazflow_by_source": {source: per_source(pairs) for source, pairs in by_source.items()},
                                      "seconds": {"lid176": round(raw_s, 2), "qazflow": round(qaz_s, 2)},
                                      "kk_errors_sample": misses}
    for kind, r in results["by_length"].items():
        print(f"\n{kind} texts ({r['n']})")
        print(f"{'lang':5} {'n':>5} {'lid176 P':>9} {'R':>6} {'qazflow P':>10} {'R':>6}")
        for lang in LANGUAGES:
            a, b = r["lid176"]["per_lang"][lang], r["qazflow"]["per_lang"][lang]
            print(f"{lang:5} {a['n']:>5} {a['precision'] or 0:>9.4f} {a['recall'] or 0:>6.4f} "
                  f"{b['precision'] or 0:>10.4f} {b['recall'] or 0:>6.4f}")
        for name in ("lid176", "qazflow"):
            s = r[name]
            print(f"{name}: kk precision vs {'/'.join(RIVALS)} {s['kk_precision_vs_rivals']}, "
                  f"rivals labelled kk {s['rivals_labelled_kk']}, kk labelled as {s['kk_labelled_as']}")
        for source, s in r["qazflow_by_source"].items():
            print(f"qazflow on {source}: {s}")
    os.makedirs(RESULTS, exist_ok=True)
    out = os.path.join(RESULTS, "langid_eval_quick.json" if args.quick else "langid_eval.json")
    with open(out, "w") as f:
        json.dump(results, f, ensure_ascii=False, indent=1)
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
