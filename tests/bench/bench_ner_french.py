"""Words per second of the ner path on French articles beside raw ``nlp.pipe`` of the French pipeline.

The same two measures as ``bench_ner.py`` (in process, and through the ner service on an embedded
broker), on French articles: the service loads the French pipeline (``NEWSMON_SPACY_LANGUAGE_MODELS``)
when the first French article arrives, and the raw rate is the same pipeline's ``nlp.pipe`` on the
same texts, in the same run. The articles are made here from French sentences written for this
benchmark (no news text is copied), shuffled per seed. The target is a ratio of at least 0.9.
"""

from __future__ import annotations

import random

from services.dedupe.fingerprint import first_of_story
from services.ner.pipeline import load_pipeline
from shared.schemas import RawArticle
from tests.bench.bench_ner import (
    BROKER_ROUNDS,
    IN_PROCESS_ARTICLES,
    ROUNDS,
    SETTINGS,
    in_process_seconds,
    ner_path_seconds,
    through_broker_seconds,
    verdict,
    word_count,
)

BROKER_ARTICLES = 30
SENTENCES = [
    "L'Union européenne a adopté lundi de nouvelles sanctions contre l'Iran, accusé de livrer des drones à la Russie.",
    "Les ministres des Affaires étrangères se sont réunis à Bruxelles pour discuter de la situation au Proche-Orient.",
    "Des camions d'aide humanitaire attendaient au point de passage de Rafah, dans le sud de la bande de Gaza.",
    "Le gouvernement a présenté mercredi un projet de loi sur la transition énergétique devant l'Assemblée nationale.",
    "Selon les chiffres publiés par l'Insee, l'inflation a ralenti en mai pour le troisième mois consécutif.",
    "Le président de la République s'est entretenu par téléphone avec son homologue américain pendant une heure.",
    "Les syndicats appellent à une nouvelle journée de grève dans les transports publics jeudi prochain.",
    "À Marseille, la municipalité a inauguré un nouveau tramway reliant le centre-ville aux quartiers nord.",
    "Les Gardiens de la révolution iraniens ont annoncé avoir saisi un pétrolier dans le détroit d'Ormuz.",
    "La Banque centrale européenne devrait maintenir ses taux directeurs inchangés lors de sa prochaine réunion.",
    "Des milliers de personnes ont manifesté samedi à Paris contre la réforme des retraites.",
    "Le ministre de l'Intérieur a annoncé le renforcement des contrôles aux frontières pendant l'été.",
    "Les négociations sur le programme nucléaire iranien doivent reprendre à Vienne à la fin du mois.",
    "L'armée israélienne a affirmé avoir frappé des positions du Hamas dans le nord de Gaza pendant la nuit.",
    "Le Premier ministre a reçu les représentants des agriculteurs à Matignon pour désamorcer la crise.",
    "Les experts du climat alertent sur la multiplication des épisodes de sécheresse dans le sud du pays.",
    "La justice a ouvert une enquête après l'incendie qui a ravagé un entrepôt de la banlieue lyonnaise.",
    "Washington a salué l'accord conclu entre les deux pays voisins après des mois de tensions.",
    "Le Conseil constitutionnel doit se prononcer sur la conformité du texte d'ici la fin de la semaine.",
    "Les prix de l'énergie ont fortement augmenté depuis le début de l'hiver, pesant sur le budget des ménages.",
]


def french_payloads(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``count`` French articles of 24 to 36 sentences (about 600 words, the length of the English
    corpus's articles) as articles.unique messages (key, value)."""
    chooser = random.Random(seed)
    found = []
    for number in range(count):
        text = " ".join(chooser.choices(SENTENCES, k=chooser.randint(24, 36)))
        article = first_of_story(RawArticle(article_id=f"fr-{seed}-{number}", text=text, source="bench",
                                            language="fr"))
        found.append((article.article_id.encode(), article.model_dump_json().encode()))
    return found


def main() -> None:
    model = SETTINGS.spacy_language_models["fr"]
    nlp = load_pipeline(model, SETTINGS.ner_patterns_path)
    messages = french_payloads(IN_PROCESS_ARTICLES, seed=91)
    words = word_count(messages)
    ner_path_seconds(nlp, messages[:3])  # warm-up
    raw, ours = in_process_seconds(nlp, messages)
    raw_rate, our_rate = words / raw, words / ours
    print(f"ner in process, French ({model}): {our_rate:,.0f} words/s; raw nlp.pipe {raw_rate:,.0f} words/s; "
          f"{verdict(our_rate / raw_rate)} ({len(messages)} articles, {words:,} words, best of {ROUNDS} rounds "
          "per chunk)")
    runs = [french_payloads(BROKER_ARTICLES, seed=92 + run) for run in range(BROKER_ROUNDS)]
    timings = through_broker_seconds(nlp, runs, warm_up=french_payloads(3, seed=90))
    best = max(range(len(runs)), key=lambda run: timings[run][1] / timings[run][0])
    (through_service, raw_seconds), run_words = timings[best], word_count(runs[best])
    print(f"ner service through the embedded broker, French ({model}): {run_words / through_service:,.0f} words/s; "
          f"raw nlp.pipe {run_words / raw_seconds:,.0f} words/s; {verdict(raw_seconds / through_service)} "
          f"({len(runs[best])} articles, best of {BROKER_ROUNDS})")


if __name__ == "__main__":
    main()
