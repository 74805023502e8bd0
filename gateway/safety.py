"""Safety lexicon and safety information.

The NLU model recognises sensitive intents, but a missed intent must still reach a
person. The lexicon is checked on the citizen's original (masked) text and on its Swedish
translation, so Swedish and English patterns cover every language the translator handles.

Patterns are regular expressions over *normalised* text: lower case, punctuation removed,
single spaces, colloquial spellings folded ("mej" -> "mig", "dont" -> "don't"). They
prefer a person doing something to someone ("min sambo slår mig", "he hits me") over single
words, so idioms stay quiet: "det slår mig att ..." (it strikes me that) and "beats me"
(I don't know) are not violence. A false alarm costs a staff member a minute; a miss can
cost a life, so the patterns lean towards catching.

Every reason here is acute: the citizen first gets the safety information (112,
Självmordslinjen, Kvinnofridslinjen, 1177), then the handoff.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ---- building blocks -------------------------------------------------------------------
_SV_CLOSE = (
    r"(?:sambo|sambon|man|mannen|make|maken|fru|frun|hustru|partner|partnern|pojkvän|pojkvännen"
    r"|flickvän|flickvännen|kille|killen|tjej|tjejen|ex|expojkvän|exman|exfru|exsambo|förälder"
    r"|föräldrar|pappa|mamma|far|mor|styvpappa|styvmamma|bror|brorsan|syster|son|dotter"
    r"|svärfar|svärmor|familj|familjen|släkt|släkten)"
)
_SV_HURT = (
    r"(?:slår|slog|slagit|sparkar|sparkade|sparkat|misshandlar|misshandlade|misshandlat|stryper"
    r"|ströp|strypt|våldtar|våldtog|våldtagit|knuffar|knuffade|bränner|brände|skadar|skadade"
    r"|skadat|låser in|låste in|förföljer|hotar|hotade|hotat)"
)
_SV_CHILD = (
    r"(?:barn|barnet|barnen|mitt barn|mina barn|hennes barn|hans barn|min son|min dotter"
    r"|lillebror|lillasyster|min bror|min syster|mitt barnbarn|brorson|brorsdotter|systerson"
    r"|systerdotter|bebisen|bebis|flickan|pojken|ungarna)"
)
_EN_CLOSE = (
    r"(?:he|she|husband|wife|partner|boyfriend|girlfriend|bf|gf|ex|fiance|fiancee|dad|father"
    r"|mum|mom|mother|parents|stepdad|stepfather|stepmum|stepmom|stepmother|brother|sister"
    r"|son|daughter|family|uncle|aunt)"
)
_EN_HURT = (
    r"(?:hits|hit|beats|beat|kicks|kicked|punches|punched|chokes|choked|strangles|strangled"
    r"|rapes|raped|abuses|abused|hurts|hurt|burns|burned|slaps|slapped|locks|locked|touches"
    r"|touched|stalks|stalked)"
)
_EN_CHILD = (
    r"(?:child|children|kid|kids|baby|son|daughter|little brother|little sister|brother|sister"
    r"|niece|nephew|grandchild|toddler)"
)
# "det slår mig att", "tanken slog mig": the verb "slå" as an idiom, not a blow.
_SV_IDIOM = r"(?<!\bdet )(?<!\btanken )(?<!\bidén )(?<!\bplötsligt )(?<!\bsom )"

# A child named in the message: "child_images" needs one before a request for pictures.
_CHILD_REF = (r"(?:\d+ ?-?årig\w*|\w*åring\w*|\d+ years? old|dotter|dottern|son|sonen|barn\w*"
              r"|daughter|son|kid|kids|child|children|pupil|elev\w*|i'm 1\d|jag är 1\d)")
PATTERNS: dict[str, tuple[tuple[str, str], ...]] = {
    "sensitive/suicide": (
        ("suicide_word_sv", r"\bsjälvmord\w*|\bsuicid\w*"),
        ("take_life_sv", r"\bta (?:livet av (?:mig|sig|dig)|mitt liv|sitt liv|mitt eget liv)"),
        ("not_live_sv", r"\b(?:vill|orkar) inte (?:leva|finnas)\b"),
        ("want_die_sv", r"\b(?:vill|ska|tänker) (?:bara )?dö\b|\bvill sluta finnas\b"),
        ("self_harm_sv", r"\b(?:skada|skadar|skadat|skär|skära|skurit) mig själv\b|\bsjälvskad\w*"
                         r"|\bskurit mig igen\b"),
        ("end_it_sv", r"\bgöra slut på (?:mig|mitt liv|livet|allt)\b|\bhoppa (?:från|framför)"
                      r" (?:bron|tåget|tunnelbanan)\b"),
        ("overdose_sv", r"\böverdos\w*|\btagit (?:en massa|alla|för många) (?:tabletter|piller)\b"),
        ("despair_sv", r"\bvill (?:bara )?försvinna\b|\bavskedsbrev\w*|\bingen mening med (?:att leva"
                       r"|livet)\b|\blivet är meningslöst\b|\bborde inte finnas\b|\bom jag inte fanns\b"
                       r"|\blivet av (?:mig|sig|dig)\b|\bvill inte vakna\b|\bsova för alltid\b|\bborta för gott\b|\btar livet av\b"  # noqa: E501 (one pattern per line)
                       r"|\bvill inte vara med längre\b|\bingen skulle sakna mig\b|\bsparat tabletter\b"
                       r"|\bbron\b(?: \w+){0,4} hoppa\b|\bhoppa\b(?: \w+){0,3} bron\b"),
        ("suicide_word_en", r"\bsuicid\w*"),
        ("kill_self_en", r"\bkill(?:ing)? myself\b|\bend(?:ing)? (?:my life|it all)\b"
                         r"|\btak(?:e|ing) my (?:own )?life\b"),
        ("not_live_en", r"\b(?:want|wanna|going) to die\b|\bdon't want to (?:live|be alive|exist)\b"
                        r"|\bno (?:reason|point) (?:to|in) liv(?:e|ing)\b|\bbetter off dead\b"),
        ("self_harm_en", r"\b(?:hurt|hurting|cut|cutting|harm|harming) myself\b|\bself ?harm\w*"),
        ("overdose_en", r"\boverdos\w*"),
        ("despair_en", r"\bdisappear forever\b|\bgoodbye (?:letter|note)\b|\bsuicide note\b"
                       r"|\bbetter off without me\b|\bmiss me if i died\b|\bif i wasn't (?:here|around)\b"
                       r"|\btired of living\b|\bwants? to die\b|\b(?:going to|want to|will) end it\b"
                       r"|\bwant to jump\b|\bcan't go on\b|\bwant it all to stop\b|\bsaved up pills\b"
                       # the English side of "ingen skulle sakna mig", "om jag försvann", "en börda"
                       r"|\b(?:care|notice) if i (?:was gone|were gone|am gone|died|disappeared|was dead"
                       r"|wasn't here)\b"
                       r"|\b(?:nobody|no one) (?:would|will) miss me\b"
                       r"|\ba burden to (?:everyone|everybody|my family)\b"),
        ("despair_more_sv", r"\bgöra? (?:jag )?slut på (?:det här|allt)\b|\bköra (?:in i|framför) (?:en )?"
                            r"(?:lastbil|tåg|bil)\b|\bingen idé (?:längre|att leva)\b|\bbättre utan mig\b"
                            r"|\bom jag försvann\b|\bi vägen för alla\b|\ballt ska ta slut\b"
                            r"|\b(?:inget|ingenting) att leva för\b|\bjag skär mig\b"
                            r"|\bbara en börda\b|\ben börda för (?:alla|familjen)\b"),
        ("despair_more_en", r"\bend it (?:tonight|today|now)\b|\bplan to end it\b|\bhad enough of"
                            r" (?:life|living)\b|\bthinking about (?:dying|death|killing myself)\b"),
        ("suicide_more_sv", r"\bvill int(?:e)? leva\b|\btänker på att dö\b|\bför att dö\b"
                            r"|\bavsluta (?:sitt|mitt|ditt|hans|hennes) liv\b|\bavsluta allt\b"
                            r"|\b(?:tagit|svalt|ätit) (?:\w+ ){0,4}(?:tabletter|piller|alvedon"
                            r"|panodil|sömntabletter)\b|\b(?:skurit|skär|ristar|ristat) (?:mig|sig)\b"
                            r"|\brakblad\b|\b(?:har|köpt|skaffat) ett rep\b|\blever eller dör\b|\bfår ta slut nu\b"),
        ("suicide_more_en", r"\bkill (?:himself|herself|themselves)\b|\bway to die\b"
                            r"|\b(?:took|taken|swallowed) (?:\w+ ){0,4}(?:paracetamol|pills|tablets)\b"
                            r"|\b(?:thinking about|about to) jump(?:ing)?\b|\bcan'?t take it anymore\b"
                            r"|\b(?:got|have|bought) (?:a|the) rope\b|\brope ready\b|\bcutting (?:her|his|my|their) arms\b"  # noqa: E501 (one pattern per line)
                            r"|\bwants? to end it\b|\btake (?:his|her|their) (?:own )?life\b"),
    ),
    "sensitive/child_at_risk": (
        ("child_hurt_sv", _SV_IDIOM + _SV_HURT + r" (?:\w+ )?" + _SV_CHILD + r"\b"),
        ("child_harm_sv", r"\b(?:barn|barnet|barnen)\w* (?:\w+ ){0,3}far illa\b|\borosanmälan\b"
                          r"|\bsexuella övergrepp\b|\bförgr[ie]p\w* sig\b"
                          # "orosanmälan" in two words, as citizens also write it
                          r"|\banmäla (?:min )?oro\b|\boro för (?:ett|mitt|hennes|hans|deras) barn\b"),
        ("child_neglect_sv", r"\btar på mig på ett sätt\b|\blämnas ensamma\b|\bensamma hemma\b"
                             r"|\bfår ingen mat\b|\btar inte hand om (?:oss|barnen|mig)\b"
                             r"|\bsexuella meddelanden\b|\bgör saker mot (?:henne|honom|mig)\b"
                             r"|\bblir inlåst\b|\bingen vuxen\b|\b(?:vågar inte|inte vågar) gå hem\b"
                             r"|\bslå (?:sitt|sina) barn\b|\brymt hemifrån\b"
                             r"|\bbarn\w* (?:\w+ ){0,5}(?:blåmärken|hungriga|smutsiga)\b"
                             r"|\b(?:föräldrar|mamma|pappa)\w* (?:\w+ ){0,2}knarkar\b"
                             r"|\b(?:hennes|hans) " + _SV_CLOSE + r" " + _SV_HURT + r" (?:henne|honom)\b"),
        ("child_hurt_en", r"\b" + _EN_HURT + r" (?:my|the|his|her|their) " + _EN_CHILD + r"\b"),
        ("child_harm_en", r"\bchild abuse\b|\bconcerned about a child\b|\b(?:child|children|kids?) (?:is |are )?being"
                          r" (?:abused|neglected|hurt)\b|\bsexual(?:ly)? abus\w*"
                          # the English name of a Swedish orosanmälan, which the Swedish pattern has
                          r"|\breports? of concern\b"),
        ("child_neglect_en", r"\bworried about a child\b|\bleft alone\b|\bdon't look after\b"
                             r"|\bsexual messages\b|\b(?:get|gets|getting|got) (?:beaten|hit) at home\b"
                             r"|\b(?:her|his) " + _EN_CLOSE + r" " + _EN_HURT + r" (?:her|him)\b"
                             r"|\bcrying for hours\b"),
        ("child_more", r"\bbarnmisshandel\w*|\bbarn\w* (?:\w+ ){0,5}skriker och gråter\b"
                       r"|\bchild neglect\b|\balone and hungry\b"),
        ("child_more_sv", r"\blämnar (?:mig|oss|barnen|dem) ensam\w*\b|\bfår (?:vi |jag |de )?ingen"
                          r" mat\b|\binte ätit sen\b|\b(?:föräldrar\w*|mamma|pappa) (?:\w+ ){0,2}"
                          r"(?:super|dricker|är full|tar droger|knarkar)\b|\btar på mig när\b"
                          r"|\bbrännmärk\w*|\bsluta slå\b|\bkommer in i (?:min|hennes|hans) säng\b"),
        ("child_images", r"^(?=.*\b" + _CHILD_REF + r"\b).*(?:\b(?:ber|bad|asks|asking|asked)"
                         r" (?:\w+ ){0,6}(?:att )?(?:skicka|send) (?:\w+ ){0,2}(?:bilder|pictures|photos"
                         r"|nudes)\b|\bkonstiga bilder\b|\bweird (?:pictures|photos)\b)"),
        ("child_more_en", r"\bhaven'?t had food\b|\bhasn'?t eaten\b|\b(?:parents|mum|mom|dad)"
                          r" (?:\w+ ){0,2}(?:drink|drinks|is drunk|take drugs|takes drugs|on drugs)\b"
                          r"|\btouches me\b|\bcomes into (?:her|his|my) bed\b|\bscreaming stop\b"
                          r"|\bburn marks\b"),
    ),
    "sensitive/violence_close_relationship": (
        ("close_hurt_sv", r"\b" + _SV_CLOSE + r" (?:\w+ ){0,3}?" + _SV_IDIOM + _SV_HURT + r"(?: att \w+)? mig\b"),
        ("close_hurt_other_sv", _SV_IDIOM + r"\b" + _SV_HURT + r" (?:(?:min|mitt|mina) " + _SV_CLOSE
                                + r"|mamma|pappa)\b"),
        ("pronoun_hurt_sv", r"\b(?:han|hon|de) (?:\w+ ){0,2}?" + _SV_IDIOM + _SV_HURT + r" mig\b"),
        ("beaten_sv", r"\b(?:blir|blev|har blivit|är) (?:\w+ )?(?:slagen|misshandlad|våldtagen"
                      r"|sparkad|strypt)\b"),
        ("violence_words_sv", r"\bvåld i (?:min|vår|en) (?:nära )?relation\w*|\bvåld hemma\b"
                              r"|\bvåld i hemmet\b|\bhedersvåld\b|\bhedersrelaterat\b|\bvåldtäkt\w*"
                              r"|\bstryptag\b|\bskyddat boende\b|\bkvinnojour\w*"
                              r"|\btvinga\w* mig (?:att gifta mig|till sex)\b"),
        ("fear_close_sv", r"\brädd för min " + _SV_CLOSE + r"\b|\bvågar inte (?:gå hem|lämna"
                          r" (?:honom|henne))\b|\bfly från min\b|\bblåmärken efter\b"
                          r"|\blåter mig inte träffa\b|\bhotat att (?:\w+ ){0,3}skada mig\b"),
        ("close_hurt_en", r"\b" + _EN_CLOSE + r" (?:\w+ ){0,2}?" + _EN_HURT
                          + r" me\b(?! up\b| at\b| in\b| to\b| on\b)"),
        ("abuse_words_en", r"\bdomestic (?:violence|abuse)\b|\bbeing abused\b|\babusive"
                           r" (?:partner|husband|wife|boyfriend|girlfriend|relationship)\b"
                           r"|\braped\b|\brape\b|\bforced (?:marriage|to marry)\b"
                           r"|\bwomen's shelter\b|\babused by my\b|\bhonou?r (?:violence|crime|based)\b"),
        ("fear_close_en", r"\bafraid (?:to go home|of my " + _EN_CLOSE + r")\b|\bforcing me to"
                          r" (?:get )?marr\w*|\bcontrols my money\b"),
        ("control_more", r"\bkontrollerar (?:alla )?mina pengar\b|\bvåld i nära relation\w*"
                         r"|\blocks me in\b|\bforc(?:es|ed|ing) me to have sex\b"),
        ("control_sv", r"\bsläpper inte ut mig\b|\btar (?:hela )?min (?:lön|pension|pengar)\b"
                       r"|\bfår inte ha eget\b|\btagit mitt pass\b|\bfår inte lämna (?:huset|lägenheten)\b"
                       r"|\bbevakar allt jag gör\b|\bvanärar familjen\b"),
        ("close_more_sv", r"\boch (?:slår|sparkar|knuffar) mig\b|\bknuffa\w* omkull mig\b"
                          r"|\b" + _SV_CLOSE + r" tvingar mig\b|\b(?:mitt ex|min ex\w*)\b.*\bhot\w*"
                          r"|\bhar blåmärken igen\b|\bblåmärken (?:på|över) (?:halsen|hela kroppen|armarna|ansiktet)\b|\bgift(?:as|a) bort\b|\bvem (?:jag|hon|han) ska gifta"  # noqa: E501 (one pattern per line)
                          r" (?:mig|sig) med\b"),
        ("control_en", r"\bwon'?t let me (?:see|go|leave|have|talk)\b|\btakes? all my (?:wages|money"
                       r"|salary|pension)\b|\btaken my passport\b|\bshame on (?:the|my) family\b"),
        ("close_more_en", r"\band (?:hits|beats|kicks|shoves) me\b|\bshoves me\b|\bpushed me\b"
                          r"|\bthrew (?:a|an|the) \w+ at (?:me|my head)\b|\bmy ex\b.*\bthreat\w*"
                          r"|\b(?:scared|afraid) of (?:him|her)\b"
                          r"|\bbruises (?:on|all over) (?:her|his|my) (?:neck|face|arms?|body)\b"
                          r"|\b(?:abroad|away) to marry\b|\bmarry (?:a|an) (?:older )?man\b"),
    ),
    "sensitive/threat_or_crime": (
        ("kill_threat_sv", r"\b(?:ska|kommer att|kommer|vill|försökte|hotar att|hotade att)"
                           r" (?:döda|slå ihjäl|skjuta|knivhugga|spränga) (?:mig|oss|mina barn"
                           r"|min familj|vårt hus)\b|\bdödar mig\b|\bdödshot\w*"),
        ("threat_sv", r"\b(?:hotar|hotade|hotat) (?:\w+ )?(?:mig|oss|min son|min dotter|mina barn)\b"
                      r"|\b(?:blir|blev|har blivit) (?:\w+ )?hotad\b|\bhotad till livet\b"),
        ("weapon_sv", r"\bhar (?:en|ett) (?:kniv|pistol|vapen|gevär|yxa)\b|\bbombhot\b"
                      r"|\bknivhuggen\b|\bdet skjuts\b"),
        ("crime_sv", r"\bförföljd\b|\bförföljer mig\b|\bföljer efter mig\b|\bföljde efter mig\b"
                     r"|\brånad\b|\butpressa\w*|\bnakenbilder\b|\bhotbrev\w*|\bbröt sig in\b"
                     r"|\bbryter sig in\b|\bförsöker ta sig in\b|\bska (?:\w+ ){0,3}skada mig\b"
                     r"|\bslå ihjäl mig\b|\bvapen på skolan\b|\bhotat att\b|\böverfallen\b"
                     r"|\btrakasserar mig\b|\battackerade mig\b|\növerföll mig\b|\bnedslagen\b"
                     r"|\butsatt för (?:ett )?brott\b|\bstalk\w*|\bskrämmer mig\b|\bmed (?:en )?(?:kniv|pistol"
                     r"|vapen)\b|\bbränna ner (?:mitt|vårt) hus\b"),
        ("kill_threat_en", r"\b(?:going to|gonna|will|wants to|tried to|threaten(?:s|ed)? to)"
                           r" (?:kill|hurt|stab|shoot) (?:me|us|my)\b|\bdeath threats?\b"),
        ("threat_en", r"\bthreaten(?:s|ed|ing)? me\b|\b(?:has|had|with) a (?:gun|knife|weapon)\b"
                      r"|\bbomb threat\b|\b(?:was|been|got) stabbed\b"),
        ("crime_en", r"\bfollowing me\b|\bbreak(?:ing)? into my\b|\bbroke into my\b|\brobbed\b"
                     r"|\bbeaten up\b|\bblackmail\w*|\bthreatening my\b|\bassaulted\b|\battacked me\b"
                     r"|\bmugged\b|\bstalk(?:ing|ed|s)? me\b|\bstalker\b"),
        ("crime_more", r"\bolaga hot\b|\bthreatening to (?:hurt|kill|harm) me\b|\bshooting (?:outside|at)\b"
                       r"|\bharass(?:ed|ing)? and threatened\b|\bthreatened online\b"
                       r"|\bvictim of (?:a )?crime\b"),
        ("crime_more_sv", r"\binbrott\b(?: \w+){0,4} just nu\b|\bhotar att (?:skicka|lägga ut|sprida)\b"
                          r"|\b(?:hörde|hör|hört) skott\b|\bskottlossning\b|\bge mig stryk\b"
                          r"|\bvet var jag bor\b|\bdyker upp där jag bor\b|\btafsa\w* på mig\b"
                          r"|\bhotad av\b|\bmed (?:en )?(?:machete|yxa|gevär)\b"),
        ("crime_more_en", r"\bkicking in the door\b|\bbreaking in\b|\b(?:post|send|share|leak)"
                          r" my (?:nudes|pictures|photos)\b|\bunless i pay\b|\bextort\w*"
                          r"|\bknow where i live\b|\b(?:hurt|kill) my family\b|\bgroped me\b"
                          r"|\bgrabbed me\b|\b(?:waving|with) a (?:knife|gun|machete|axe)\b"
                          r"|\bshots? fired\b|\bheard (?:gun)?shots\b"),
    ),
}
ACUTE = frozenset(PATTERNS)

_FOLD = {"mej": "mig", "dej": "dig", "sej": "sig", "dont": "don't", "im": "i'm",
         "wanna": "want to", "gonna": "going to"}
_NOT_WORD = re.compile(r"[^\w\s']+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, colloquial spellings folded, padded with spaces."""
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'").replace("`", "'")
    words = [_FOLD.get(w, w) for w in _NOT_WORD.sub(" ", text).split()]
    return " " + " ".join(words) + " "


@dataclass(frozen=True)
class SafetyHit:
    reason: str
    phrase: str  # the pattern's name (never the citizen's words), for logs and the basis record

    @property
    def acute(self) -> bool:
        return self.reason in ACUTE


class SafetyLexicon:
    def __init__(self, patterns: dict[str, tuple[tuple[str, str], ...]] | None = None) -> None:
        self._entries = [
            (reason, name, re.compile(pattern))
            for reason, entries in (patterns or PATTERNS).items()
            for name, pattern in entries
        ]

    def match(self, *texts: str | None) -> SafetyHit | None:
        """The first hit in any of ``texts`` (checked in order: original, then Swedish)."""
        checked: set[str] = set()
        for text in texts:
            if not text or text in checked:  # a Swedish message is its own Swedish text: once is enough
                continue
            checked.add(text)
            haystack = normalise(text)
            for reason, name, pattern in self._entries:
                if pattern.search(haystack):
                    return SafetyHit(reason, name)
        return None


SAFETY_INFO: dict[str, str] = {
    "sv": (
        "Om du eller någon annan är i fara just nu: ring 112. "
        "Har du tankar på att ta ditt liv? Ring Självmordslinjen, 90101 (dygnet runt). "
        "Utsatt för våld eller hot av någon nära? Ring Kvinnofridslinjen, 020-50 50 50 "
        "(gratis, dygnet runt). Socialjouren i Karlstad (kvällar och helger): 054-540 50 54. "
        "Vill du anmäla ett brott eller hot som inte är akut? Ring polisen, 114 14. "
        "Råd om vård: ring 1177."
    ),
    "en": (
        "If you or someone else is in danger right now: call 112. "
        "Thinking about taking your life? Call Självmordslinjen, 90101 (day and night). "
        "Exposed to violence or threats from someone close? Call Kvinnofridslinjen, "
        "020-50 50 50 (free, day and night). Social emergency service in Karlstad (evenings "
        "and weekends): 054-540 50 54. Want to report a crime or threat that is not urgent? "
        "Call the police, 114 14. Health advice: call 1177."
    ),
}
#: The numbers in the safety information; the widget makes each of them a ``tel:`` link.
SAFETY_NUMBERS = ("112", "90101", "020-50 50 50", "054-540 50 54", "114 14", "1177")
#: ``response_id`` of the safety information's messages (``presenters.message_out`` flags them).
SAFETY_RESPONSE_ID = "gateway/safety_info"
SAFETY_SOURCE: dict[str, object] = {
    "title": "Akut hjälp - socialjouren",
    "url": "https://karlstad.se/omsorg-och-hjalp/akut-hjalp/",
    # Who stands behind the safety information (keys as in docs/topic-format.md): written by
    # the project team; nobody at the municipality has taken ownership or reviewed it yet.
    "author": "Projektgruppen för AI-assistenten",
    "checked": "2026-11-29",
    "owner": None,
    "reviewed_by": None,
    "reviewed": None,
}


def safety_info(language: str) -> str:
    return SAFETY_INFO.get(language) or SAFETY_INFO["sv"]
