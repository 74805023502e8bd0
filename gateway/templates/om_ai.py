"""The About-AI page: prose written by people (sv, en), figures filled in from ``facts``.

``render(facts, lang)`` returns a complete, accessible HTML page: one ``h1``, headed
sections, tables with captions and header cells, a skip link, a language switch with
``hreflang``, no script. Every value from ``facts`` is escaped.
"""
from __future__ import annotations

from html import escape
from typing import Any

CONTACT = {
    "name": "Kontaktcenter",
    "phone": "054-540 00 00",
    "phone_international": "+46 54 540 00 00",
}

TEXTS: dict[str, dict[str, Any]] = {
    "sv": {
        "title": "Om AI-assistenten",
        "skip": "Hoppa till innehållet",
        "switch": ("In English", "en", "/om-ai?lang=en"),
        "intro": "Karlstads kommuns AI-assistent svarar på allmänna frågor om kommunens service, "
                 "på det språk du skriver på. Sidan skapas automatiskt från den version som körs "
                 "just nu; alla siffror hämtas när du öppnar sidan.",
        "generated": "Sidan skapades",
        "purpose_h": "Syfte och omfattning",
        "purpose": [
            "Assistenten ska göra det lättare att få svar från kommunen, dygnet runt och på fler "
            "språk. Den svarar på allmänna frågor inom de ämnen som kommunens redaktörer har "
            "skrivit svar för, och visar alltid vilken sida på karlstad.se svaret bygger på.",
            "När en fråga är känslig, när assistenten inte förstår eller när du ber om det, "
            "lämnas samtalet över till en person på Kontaktcenter.",
        ],
        "topics": "Ämnen assistenten kan svara på",
        "decide_h": "Assistenten fattar inga beslut",
        "decide": "Assistenten informerar och hänvisar. Den fattar aldrig beslut i ett ärende och "
                  "kan inte se dina ärenden. Beslut fattas av kommunens handläggare.",
        "models_h": "Modeller och versioner",
        "models_caption": "Det som körs just nu",
        "part": "Del", "value": "Värde",
        "nlu": "Språkförståelse (Rasa)",
        "model_id": "modell-id", "trained": "tränad", "model_file": "modellfil",
        "not_answering": "svarar inte just nu",
        "release": "Version av assistenten",
        "training_data": "Träningsdata (version och senaste ändring)",
        "registry": "Översättningsmodeller (registerversion)",
        "detection": "Språkigenkänning",
        "detection_text": "skriftsystem först, sedan ordigenkänning; svenska antas när texten är för "
                          "kort för att avgöra; du kan alltid välja språk själv",
        "languages_caption": "Språk och översättning",
        "language": "Språk", "tier": "Kvalitetsnivå", "available": "Tillgänglig nu",
        "how": "Så hanteras det",
        "tier_native": "skrivet av människor (ingen översättning)",
        "tier_good": "maskinöversättning",
        "tier_poor": "begränsad maskinöversättning: person med tolk erbjuds",
        "yes": "ja", "no": "nej",
        "eval_h": "Hur bra förstår assistenten?",
        "eval_none": "Ingen utvärdering har körts för den här versionen av träningsdatan.",
        "eval_stale": "Den senaste utvärderingen gäller en tidigare version av träningsdatan "
                      "och kan skilja sig från den som körs nu.",
        "eval_current": "Utvärderingen gäller träningsdatan som körs nu.",
        "eval_method": "Metod",
        "eval_when": "Utvärderad",
        "macro_f1": "Genomsnittligt F1-värde över ämnen",
        "f1_explained": "F1 väger ihop precision (hur ofta ett svar om ämnet var rätt ämne) och "
                        "täckning (hur många frågor om ämnet som fick rätt svar). 100 % är perfekt.",
        "per_topic_caption": "Per ämne",
        "topic": "Ämne", "precision": "Precision", "recall": "Täckning", "f1": "F1",
        "support": "Antal testfrågor",
        "per_language_caption": "Per språk (frågor skrivna på svenska och engelska)",
        "accuracy": "Andel rätt",
        "para_h": "Test med omformulerade frågor",
        "para_intro": "Frågor formulerade på nya sätt, som aldrig använts i träningen.",
        "para_topic": "Rätt ämne för vanliga frågor",
        "para_acute": "Akuta situationer som känns igen som känsliga",
        "para_false": "Vanliga frågor som i onödan lämnas över till en person",
        "usage_h": "Användning de senaste {days} dagarna",
        "usage_caption": "Från transparensloggen",
        "answers": "Svar", "handoffs": "Överlämnade till en person", "fallbacks": "Frågor som inte förstods",
        "low_confidence": "Svar där assistenten var osäker (under {pct})",
        "negative_feedback": "Svar som fick tummen ner",
        "limits_h": "Kända begränsningar och hur vi hanterar dem",
        "limits": [
            ("Maskinöversättning kan bli fel.",
             "Översatta svar märks som maskinöversatta och den svenska källsidan gäller. Välkomst- "
             "och säkerhetsinformation visas alltid också på svenska och engelska."),
            ("För vissa språk är översättningen för dålig att lita på{poor}.",
             "Där erbjuder assistenten i stället en person med tolk och visar svaret på svenska och engelska."),
            ("Språkigenkänningen lutar åt svenska när texten är kort.",
             "Du kan välja språk själv, och förklaringen till varje svar visar hur språket bestämdes."),
            ("Assistenten kan missförstå frågan.",
             "Den visar hur säker den var och vilken källa svaret bygger på; under {pct} räknas som "
             "osäkert. Du kan alltid fråga en människa."),
            ("Modellen har lärt sig av exempel på svenska och engelska skrivna av kommunens medarbetare.",
             "Andra språk går via översättning; kvaliteten per språk och ämne redovisas ovan."),
            ("En känslig situation kan missas av modellen.",
             "En ordlista för känsliga situationer kontrolleras utöver modellen, på både originaltexten "
             "och den svenska översättningen, och ger säkerhetsinformation och en person."),
        ],
        "limit": "Begränsning", "compensation": "Så kompenserar vi",
        "oversight_h": "Mänsklig tillsyn",
        "oversight": [
            "Personal på Kontaktcenter tar emot överlämnade samtal och ser varför assistenten lämnade över.",
            "Redaktörer på förvaltningarna äger varje svar; varje svar har en källa och ett granskningsdatum.",
            "Varje svar får ett underlag (vad assistenten förstod, hur säker den var, källa, översättning). "
            "Du kan se det med ”Varför fick jag det här svaret?” och ladda ner underlaget för ditt samtal.",
            "Underlagen är kedjade med kontrollsummor så att ändringar upptäcks; granskare kan söka, "
            "exportera och kontrollera dem. Varje export loggas.",
            "Modellen tränas bara på exempel som redaktörerna skrivit, aldrig automatiskt på samtal, "
            "och utvärderas innan en ny version tas i bruk.",
        ],
        "data_h": "Vilka uppgifter sparas och hur länge",
        "data": [
            "Personnummer, telefonnummer, e-postadresser och kort- och kontonummer tas bort ur det du "
            "skriver innan något sparas, översätts eller skickas vidare.",
            "Samtalet och underlaget för varje svar sparas i {days} dagar efter samtalets senaste "
            "aktivitet. Sedan raderas de och bara antal finns kvar (svar, överlämningar och liknande "
            "per dag, ämne och språk).",
        ],
        "contact_h": "Frågor",
        "contact": "Har du frågor om assistenten eller om hur dina uppgifter behandlas? Ring "
                   "Kontaktcenter, {phone}.",
        "unknown": "okänt",
    },
    "en": {
        "title": "About the AI assistant",
        "skip": "Skip to content",
        "switch": ("På svenska", "sv", "/om-ai"),
        "intro": "Karlstad municipality's AI assistant answers general questions about the "
                 "municipality's services, in the language you write in. This page is generated "
                 "from the version running right now; every figure is read when you open the page.",
        "generated": "Page generated",
        "purpose_h": "Purpose and scope",
        "purpose": [
            "The assistant makes it easier to get answers from the municipality, day and night and in "
            "more languages. It answers general questions on the topics the municipality's editors "
            "have written answers for, and always shows which page on karlstad.se an answer is based on.",
            "When a question is sensitive, when the assistant does not understand, or when you ask for "
            "it, the conversation is passed to a person at the contact centre.",
        ],
        "topics": "Topics the assistant can answer",
        "decide_h": "The assistant makes no decisions",
        "decide": "The assistant informs and refers. It never makes a decision about a case and "
                  "cannot see your cases. Decisions are made by the municipality's officers.",
        "models_h": "Models and versions",
        "models_caption": "What is running now",
        "part": "Part", "value": "Value",
        "nlu": "Language understanding (Rasa)",
        "model_id": "model id", "trained": "trained", "model_file": "model file",
        "not_answering": "not answering right now",
        "release": "Version of the assistant",
        "training_data": "Training data (version and last change)",
        "registry": "Translation models (registry version)",
        "detection": "Language detection",
        "detection_text": "writing system first, then word statistics; Swedish is assumed when the "
                          "text is too short to tell; you can always choose the language yourself",
        "languages_caption": "Languages and translation",
        "language": "Language", "tier": "Quality level", "available": "Available now",
        "how": "How it is handled",
        "tier_native": "written by people (no translation)",
        "tier_good": "machine translation",
        "tier_poor": "limited machine translation: a person with an interpreter is offered",
        "yes": "yes", "no": "no",
        "eval_h": "How well does the assistant understand?",
        "eval_none": "No evaluation has been run for this version of the training data.",
        "eval_stale": "The latest evaluation is of an earlier version of the training data and may "
                      "differ from the one running now.",
        "eval_current": "The evaluation is of the training data running now.",
        "eval_method": "Method",
        "eval_when": "Evaluated",
        "macro_f1": "Average F1 across topics",
        "f1_explained": "F1 combines precision (how often an answer on the topic was the right topic) "
                        "and recall (how many questions on the topic got the right answer). 100% is perfect.",
        "per_topic_caption": "Per topic",
        "topic": "Topic", "precision": "Precision", "recall": "Recall", "f1": "F1",
        "support": "Test questions",
        "per_language_caption": "Per language (questions written in Swedish and English)",
        "accuracy": "Share correct",
        "para_h": "Test with rephrased questions",
        "para_intro": "Questions worded in new ways, never used in training.",
        "para_topic": "Right topic for common questions",
        "para_acute": "Acute situations recognised as sensitive",
        "para_false": "Common questions needlessly passed to a person",
        "usage_h": "Use in the last {days} days",
        "usage_caption": "From the transparency log",
        "answers": "Answers", "handoffs": "Passed to a person", "fallbacks": "Questions not understood",
        "low_confidence": "Answers where the assistant was unsure (below {pct})",
        "negative_feedback": "Answers given a thumbs down",
        "limits_h": "Known limitations and how we handle them",
        "limits": [
            ("Machine translation can be wrong.",
             "Translated answers are labelled machine-translated and the Swedish source page is what "
             "counts. The welcome and the safety information are always shown in Swedish and English too."),
            ("For some languages translation is too poor to rely on{poor}.",
             "For these the assistant offers a person with an interpreter instead and shows the "
             "answer in Swedish and English."),
            ("Language detection leans towards Swedish when the text is short.",
             "You can choose the language yourself, and the explanation of each answer shows how the "
             "language was decided."),
            ("The assistant can misunderstand the question.",
             "It shows how sure it was and which source the answer is based on; below {pct} counts "
             "as unsure. You can always ask a person."),
            ("The model learned from examples in Swedish and English written by municipal staff.",
             "Other languages go through translation; quality per language and topic is shown above."),
            ("The model can miss a sensitive situation.",
             "A list of words for sensitive situations is checked as well as the model, on both the "
             "original text and its Swedish translation, and leads to safety information and a person."),
        ],
        "limit": "Limitation", "compensation": "How we compensate",
        "oversight_h": "Human oversight",
        "oversight": [
            "Contact-centre staff receive handed-over conversations and see why the assistant handed over.",
            "Editors in the departments own every answer; each answer has a source and a review date.",
            "Every answer gets a basis record (what the assistant understood, how sure it was, the "
            "source, translation). You can see it with \"Why did I get this answer?\" and download the "
            "records of your conversation.",
            "The records are chained with checksums so that changes are detected; auditors can "
            "search, export and check them. Every export is logged.",
            "The model is trained only on examples the editors wrote, never automatically on "
            "conversations, and is evaluated before a new version goes live.",
        ],
        "data_h": "What data is kept and for how long",
        "data": [
            "Personal identity numbers, phone numbers, e-mail addresses and card and account numbers "
            "are removed from what you write before anything is stored, translated or passed on.",
            "The conversation and the basis for each answer are kept for {days} days after the "
            "conversation's last activity. Then they are deleted and only counts remain (answers, "
            "handoffs and the like per day, topic and language).",
        ],
        "contact_h": "Questions",
        "contact": "Questions about the assistant or how your data is handled? Call the contact "
                   "centre, {phone}.",
        "unknown": "unknown",
    },
}

CSS = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:1.0625rem;
line-height:1.55;color:#1a1a1a;background:#fff;margin:0}
.wrap{max-width:52rem;margin:0 auto;padding:1rem}
a{color:#0b4f8a;text-decoration:underline}
a:focus,summary:focus,.scroll:focus{outline:3px solid #c25400;outline-offset:2px}
.skip{position:absolute;left:-999rem}.skip:focus{position:static;display:inline-block;padding:.5rem}
header{border-bottom:1px solid #bbb;padding-bottom:.5rem}
h1{font-size:1.9rem;margin:.5rem 0}h2{font-size:1.35rem;margin-top:2rem}
.scroll{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #999;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:#eef2f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#fff7e0;border-left:4px solid #a86b00;padding:.5rem .75rem}
.meta{color:#444;font-size:.9rem}
code{overflow-wrap:anywhere}
"""


def texts(lang: str) -> dict[str, Any]:
    return TEXTS["en" if lang == "en" else "sv"]


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def pct(value: Any, lang: str) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    number = round(float(value) * 100, 1)
    shown = f"{number:.0f}" if number == int(number) else f"{number:.1f}"
    return f"{shown.replace('.', ',')} %" if lang == "sv" else f"{shown}%"


def table(caption: str, headers: list[str], rows: list[list[tuple[str, bool]]]) -> str:
    """``rows`` of (already escaped html, numeric?) cells; the first cell is a row header."""
    head = "".join(f'<th scope="col">{h}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, (html, numeric) in enumerate(row):
            cls = ' class="num"' if numeric else ""
            cells.append(f'<th scope="row">{html}</th>' if i == 0 else f"<td{cls}>{html}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    # A wide table scrolls inside its own focusable region, so the page reflows at 320 px.
    return (f'<div class="scroll" role="region" tabindex="0" aria-label="{caption}">'
            f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _models(facts: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    nlu = facts["models"]["nlu"]
    translation = facts["models"]["translation"]
    release = facts["release"]
    if nlu.get("model_id"):
        nlu_html = f"{esc(t['model_id'])} <code>{esc(nlu['model_id'])}</code>"
        if nlu.get("model_file"):
            nlu_html += f", {esc(t['model_file'])} <code>{esc(nlu['model_file'])}</code>"
        if nlu.get("trained_at"):
            nlu_html += f", {esc(t['trained'])} {esc(nlu['trained_at'][:10])}"
    else:
        nlu_html = esc(t["not_answering"])
    rows = [
        [(esc(t["nlu"]), False), (nlu_html, False)],
        [(esc(t["release"]), False), (f"<code>{esc(release['version'])}</code>", False)],
        [(esc(t["training_data"]), False),
         (f"<code>{esc(str(release['training_data'])[:12])}</code>, "
          f"{esc(release.get('training_data_date') or t['unknown'])}", False)],
        [(esc(t["registry"]), False), (f"<code>{esc(translation.get('registry_version'))}</code>", False)],
        [(esc(t["detection"]), False), (esc(t["detection_text"]), False)],
    ]
    out = table(esc(t["models_caption"]), [esc(t["part"]), esc(t["value"])], rows)
    models_by_lang: dict[str, list[str]] = {}
    for row in translation.get("models", []):
        lang_code = row.get("target") if row.get("source") == "sv" else row.get("source")
        models_by_lang.setdefault(str(lang_code), []).append(
            f"{row.get('source')}→{row.get('target')}: {row.get('model')} ({row.get('engine')})"
        )
    lang_rows = []
    for info in translation.get("languages", []):
        name = info["name_sv"] if lang == "sv" and info.get("name_sv") else info.get("name_en")
        if info.get("native"):
            how = t["tier_native"]
        else:
            how = t["tier_poor"] if info.get("tier") == "poor" else t["tier_good"]
        models = "<br>".join(esc(m) for m in models_by_lang.get(info["code"], []))
        lang_rows.append([
            (f'{esc(name)} (<span lang="{esc(info["code"])}">{esc(info["name"])}</span>)', False),
            (esc(how) + (f'<br><span class="meta">{models}</span>' if models else ""), False),
            (esc(t["yes"] if info.get("available") else t["no"]), False),
        ])
    out += table(esc(t["languages_caption"]),
                 [esc(t["language"]), esc(t["how"]), esc(t["available"])], lang_rows)
    return out


def _evaluation(facts: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    evaluation = facts["evaluation"]["nlu"]
    parts = [f"<h2 id=\"utvardering\">{esc(t['eval_h'])}</h2>"]
    if not evaluation.get("available"):
        parts.append(f'<p class="note">{esc(t["eval_none"])}</p>')
    else:
        note = t["eval_current"] if evaluation.get("current") else t["eval_stale"]
        parts.append(f'<p class="{"meta" if evaluation.get("current") else "note"}">{esc(note)}</p>')
        parts.append(
            f"<p>{esc(t['macro_f1'])}: <strong>{esc(pct(evaluation.get('macro_f1'), lang))}</strong>. "
            f"{esc(t['f1_explained'])}</p>"
            f"<p class=\"meta\">{esc(t['eval_when'])}: {esc(evaluation.get('generated_at'))}. "
            f"{esc(t['eval_method'])}: {esc(evaluation.get('method'))}.</p>"
        )
        rows = []
        for row in evaluation.get("per_topic", []):
            label = (row.get("label") if lang == "sv" else row.get("label_en")) or row.get("label")
            name = f"{esc(label)} <span class=\"meta\">({esc(row['topic'])})</span>" if label else esc(row["topic"])
            rows.append([(name, False), (esc(pct(row.get("precision"), lang)), True),
                         (esc(pct(row.get("recall"), lang)), True), (esc(pct(row.get("f1"), lang)), True),
                         (esc(row.get("support")), True)])
        parts.append(table(esc(t["per_topic_caption"]),
                           [esc(t[k]) for k in ("topic", "precision", "recall", "f1", "support")], rows))
        rows = [[(esc(row.get(f"name_{lang}") or row["language"]), False),
                 (esc(pct(row.get("macro_f1"), lang)), True),
                 (esc(pct(row.get("accuracy"), lang)), True), (esc(row.get("support")), True)]
                for row in evaluation.get("per_language", [])]
        parts.append(table(esc(t["per_language_caption"]),
                           [esc(t["language"]), esc(t["f1"]), esc(t["accuracy"]), esc(t["support"])], rows))
    para = facts["evaluation"].get("paraphrases")
    if para:
        rows = [
            [(esc(t["para_topic"]), False), (esc(pct(para.get("faq_topic_accuracy"), lang)), True)],
            [(esc(t["para_acute"]), False), (esc(pct(para.get("acute_sensitive_recall"), lang)), True)],
            [(esc(t["para_false"]), False), (esc(pct(para.get("faq_false_handoff_rate"), lang)), True)],
        ]
        parts.append(f"<h3>{esc(t['para_h'])}</h3><p>{esc(t['para_intro'])} "
                     f"<span class=\"meta\">{esc(para.get('generated_at'))}</span></p>")
        parts.append(table(esc(t["para_h"]), [esc(t["part"]), esc(t["value"])], rows))
    return "".join(parts)


def _usage(facts: dict[str, Any], t: dict[str, Any], lang: str) -> str:
    usage = facts["usage"]
    threshold = pct(facts["low_confidence_below"], lang)
    rows = [[(esc(t[k].format(pct=threshold)), False), (esc(usage.get(k, 0)), True)]
            for k in ("answers", "handoffs", "fallbacks", "low_confidence", "negative_feedback")]
    return (f"<h2 id=\"anvandning\">{esc(t['usage_h'].format(days=usage['days']))}</h2>"
            + table(esc(t["usage_caption"]), [esc(t["part"]), esc(t["value"])], rows))


def render(facts: dict[str, Any], lang: str) -> str:
    t = texts(lang)
    lang = "en" if lang == "en" else "sv"
    switch_text, switch_lang, switch_href = t["switch"]
    threshold = pct(facts["low_confidence_below"], lang)
    poor = [
        (i["name_sv"] if lang == "sv" and i.get("name_sv") else i.get("name_en"))
        for i in facts["models"]["translation"].get("languages", []) if i.get("tier") == "poor"
    ]
    poor_text = f" ({', '.join(str(p) for p in poor)})" if poor else ""
    topics = "".join(
        f"<li>{esc((x.get('label') if lang == 'sv' else x.get('label_en')) or x['topic'])}</li>"
        for x in facts["topics"]
    )
    limits = [[(esc(a.format(poor=poor_text, pct=threshold)), False),
               (esc(b.format(poor=poor_text, pct=threshold)), False)] for a, b in t["limits"]]
    contact = t["contact"].format(
        phone=CONTACT["phone"] if lang == "sv" else CONTACT["phone_international"]
    )
    body = f"""
<a class="skip" href="#innehall">{esc(t['skip'])}</a>
<div class="wrap">
<header>
<nav aria-label="{'Språk' if lang == 'sv' else 'Language'}"><a href="{esc(switch_href)}" hreflang="{switch_lang}" lang="{switch_lang}">{esc(switch_text)}</a></nav>
</header>
<main id="innehall">
<h1>{esc(t['title'])}</h1>
<p>{esc(t['intro'])}</p>
<p class="meta">{esc(t['generated'])}: <time datetime="{esc(facts['generated_at'])}">{esc(facts['generated_at'])}</time></p>
<h2 id="syfte">{esc(t['purpose_h'])}</h2>
{''.join(f'<p>{esc(p)}</p>' for p in t['purpose'])}
<details><summary>{esc(t['topics'])} ({len(facts['topics'])})</summary><ul>{topics}</ul></details>
<h2 id="beslut">{esc(t['decide_h'])}</h2>
<p>{esc(t['decide'])}</p>
<h2 id="modeller">{esc(t['models_h'])}</h2>
{_models(facts, t, lang)}
{_evaluation(facts, t, lang)}
{_usage(facts, t, lang)}
<h2 id="begransningar">{esc(t['limits_h'])}</h2>
{table(esc(t['limits_h']), [esc(t['limit']), esc(t['compensation'])], limits)}
<h2 id="tillsyn">{esc(t['oversight_h'])}</h2>
<ul>{''.join(f'<li>{esc(p)}</li>' for p in t['oversight'])}</ul>
<h2 id="uppgifter">{esc(t['data_h'])}</h2>
{''.join(f'<p>{esc(p.format(days=facts["retention_days"]))}</p>' for p in t['data'])}
<h2 id="kontakt">{esc(t['contact_h'])}</h2>
<p>{esc(contact)}</p>
</main>
</div>"""
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(t['title'])} – Karlstads kommun</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")
