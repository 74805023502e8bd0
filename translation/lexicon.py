"""Word and letter evidence for the language detector (data, no logic).

Short chat messages carry too few character n-grams for langdetect alone, so the detector
adds evidence from frequent words (function words, greetings, question words and common
municipal vocabulary) and from letters that only some languages use. The lists are general
vocabulary written from knowledge of each language, not copied from the evaluation sets.
Swedish also has unaccented spellings (``nar``, ``hjalp``) because citizens often type
without å/ä/ö.

Two kinds of word evidence are combined:

* ``WORDS``: short hand-written lists (function words, greetings, question words, common
  municipal vocabulary), also for languages that have no frequency list (Somali, Kurmanji).
* ``translation/langdata/*.tsv``: frequency-ranked word lists derived from wordfreq,
  hunspell-kmr, klpt, amharicnlp, tigrinya-nlp, pashto-stopwords and stopwords-iso (sources
  and licences in ``langdata/README.md``; rebuilt with ``scripts/build_langdata.py``), and
  the Amharic spelling dictionary ``am_dict.txt`` (aspell-am). Loaded on first use
  (`zipf_index`, `spelling_dictionary`), never at import time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


WORDS: Mapping[str, frozenset[str]] = {
    "sv": _words(
        """
        och i att det som en på är av för med till den har de inte om ett han men var jag
        sig från vi så kan man när år hon under också efter eller nu sin där vid mot ska
        skulle kommer ut får finns vara hade alla andra mycket än här då sedan över bara
        in blir upp även vad få två vill ha många hur mer går detta skall hans utan något
        allt måste mellan blev bli dag någon några sitt stor varit dem bland bra tre ta
        genom hela annat fram gör ingen kunna samma tack tackar hej hejsan tjena tjenare
        hallå snälla varför vem vilka vilken vilket vart mig min mitt mina du dig din ditt
        ni er oss vår vårt våra jo ja nej okej kanske behöver behövs söka söker ansöka
        ansöker ansökan hjälp hjälpa kommun kommunen förskola förskolan skola skolan
        soptunna soptunnan sopor sophämtning bygglov parkering parkera biblioteket
        bibliotek bussen buss lägenhet lägenheten vatten avlopp faktura fakturan hemtjänst
        äldreboende socialtjänsten försörjningsstöd bistånd ekonomiskt handläggare
        tömning töms tömd tömdes återvinning återvinningscentral grovsopor matavfall
        fritids fritidshem barn barnet mitt sommarlov lov jobb arbete svenska prata pratar
        människa person någon ringa ring ringer mejla öppet öppettider stängt stänger
        öppnar kostar kostnad avgift pengar hyra hyran bostad bostadskö gata gatan väg
        vägen snö snöröjning plogas trasig trasigt hål lampa gatlampa lekplats skog
        anmäla anmälan klaga synpunkt beslut överklaga brev förstår förstod fattar vet
        undrar fråga frågor hur mkt va e ska vart nån nåt dom sen idag imorgon imorn helg
        helgen vecka veckan veckor morgon kväll natt tolk arabiska engelska svar svaret
        nar ar pa hjalp nagon nagot hjalpa forskola skolan oppet oppnar oppettider fa
        atervinning sok soker ansoka behover kor kop kopa mojligt ocksa fran
        for tva manga vill mej dej sej också tyvärr jättebra toppen super hejdå hejda ok
        """
    ),
    "en": _words(
        """
        the be to of and a in that have i it for not on with he as you do at this but his
        by from they we say her she or an will my one all would there their what so up out
        if about who get which go me when make can like time no just him know take people
        into year your good some could them see other than then now look only come its
        over think also back after use two how our work first well way even new want
        because any these give day most us is are was were am been has had does did
        where why please thanks thank hello hi hey ok okay yes need help apply get got
        bin garbage trash rubbish parking library bus ticket school child children kid
        preschool rent money pay bill water street light broken neighbour neighbor loud
        someone somebody talk speak person interpreter understand letter decision appeal
        robot answer sleep tonight house home care mother father mom dad son daughter
        can't don't i'm it's what's there's doesn't didn't won't cannot should much many
        opening hours open close closed cost costs city town council municipality office
        kids events event calendar queue courses course class classes waiting list place
        places fee fees permit permits building apartment flat housing elderly disabled
        allowance benefit benefits application applications register enrol enroll sign
        after-school daycare kindergarten swimming pool snow road roads pothole report
        complaint wedding marriage job jobs vacancies study studies learn swedish english
        transport assistance social services emergency crisis tax free cheap expensive
        week weekend today tomorrow month holiday holidays summer winter near nearest
        """
    ),
    "de": _words(
        """
        der die das und in zu den von ist nicht mit dem sich des auf für ein eine als auch
        es an er so dass kann sind noch wie einen nur einem aber wird bei ich du wir ihr sie
        hat habe haben hatte war wurde werden mein meine meinen meinem dein unser nach aus
        wenn oder was wo wann warum wer welche bitte danke hallo guten tag morgen abend
        nacht ja nein gibt kein keine brauche möchte will kannst können muss müssen
        soll darf mir mich dir dich uns euch hier dort heute immer schon sehr viel
        mehr gut schlecht neue alte kaputt geöffnet öffnet geschlossen kostet kosten
        stadt gemeinde schule kind kinder sohn tochter mutter vater mann frau nachbar
        müll tonne wasser miete geld hilfe antrag beantragen anmelden sprechen verstehe
        brief bus fahrkarte parken bibliothek arbeit wohnung straße haus
        """
    ),
    "da": _words(
        """
        og i at det er en til på den af med for ikke der som de har jeg var et du han om
        men fra hun vi kan skal vil ved sig eller hvad hvor hvornår hvordan hvorfor hvem
        mig min mit mine dig din dit jeres vores os være været blev bliver have havde
        også kun nu her der meget godt tak mange hej farvel ja nej gerne noget nogen
        ingen efter over under igen altid aldrig hjælp hjælpe brug børn barn søn datter
        mor far nabo skraldespand affald bibliotek åbent lukket koster penge husleje
        kommune skole børnehave arbejde bolig lejlighed bus billet stemme syg truet
        """
    ),
    "no": _words(
        """
        og i å det er en til på den av med for ikke der som de har jeg var et du han om
        men fra hun vi kan skal vil ved seg eller hva hvor når hvordan hvorfor hvem meg
        min mitt mine deg din ditt deres vår vårt våre oss være vært ble blir ha hadde
        også bare nå her der mye bra takk mange hei ja nei gjerne noe noen ingen etter
        over under igjen alltid aldri hjelp hjelpe trenger barn sønn datter mor far nabo
        søppel søppeldunk bibliotek åpent stengt koster penger husleie kommune skole
        barnehage jobb bolig leilighet buss billett stemme syk truet ikkje kva korleis
        """
    ),
    "fi": _words(
        """
        ja on ei se että oli hän ovat mutta kun niin jos tai kuin myös vain sen ole olen
        olet olla ollut minä sinä me te he mitä mikä missä milloin miten miksi kuka kenen
        minun sinun meidän minulla minulle sinulla hei moi kiitos kiitti terve huomenta
        päivää iltaa hyvää hyvä huono kyllä joo voi voinko voiko haluan tarvitsen apua
        paljon vähän tänään huomenna nyt täällä siellä onko oletko koulu koulun lapsi
        lapsen lasta äiti isä poika tytär naapuri roska roskat vesi vuokra raha kirjasto
        bussi lippu kunta kaupunki töitä työ asunto puhua ymmärrä kirje päätös
        """
    ),
    "pl": _words(
        """
        i w nie na się z do to że jest jak co ale po tak od za czy o jego już przez tylko
        mnie mi mój moja moje mojego ty ja my wy on ona oni być jestem jesteś mam masz ma
        mamy gdzie kiedy dlaczego kto który która które ile proszę dziękuję dzięki cześć
        dzień dobry wieczór tak nie można mogę chcę potrzebuję pomocy pomoc bardzo dzisiaj
        jutro tutaj tam szkoła szkole dziecko dzieci syn córka mama tata sąsiad śmieci
        woda czynsz pieniądze biblioteka autobus bilet gmina miasto praca mieszkanie
        mowic rozmawiac jestes prosze dziekuje czesc moge chce potrzebuje gdzie sie
        """
    ),
    "tr": _words(
        """
        ve bir bu da de için ile ne var yok mi mı mu mü ben sen o biz siz onlar benim
        senin bizim nasıl nerede neden kim hangi ne zaman kaç merhaba selam teşekkür
        teşekkürler sağol lütfen evet hayır tamam iyi kötü çok az bugün yarın burada
        orada istiyorum lazım yardım ihtiyacım okul çocuk çocuğum oğlum kızım annem babam
        komşu çöp su kira para kütüphane otobüs bilet belediye şehir iş ev konuşmak
        anlamıyorum mektup karar nasil nerede tesekkur lutfen istiyorum yardim cocuk
        """
    ),
    "es": _words(
        """
        el la de que y a en un ser se no haber por con su para como estar tener le lo todo
        pero más hacer o poder decir este ir otro ese si me ya ver porque dar cuando él
        muy sin vez mucho saber qué sobre mi alguno mismo yo también hasta año dos querer
        entre así primero desde grande eso ni nos llegar pasar tiempo ella sí día uno
        bien poco deber entonces poner cosa tanto hombre parecer nuestro tan donde ahora
        dónde cuándo cómo cuánto hola gracias buenos buenas por favor necesito quiero
        puedo ayuda hijo hija madre padre vecino basura agua alquiler dinero biblioteca
        autobús billete ayuntamiento ciudad trabajo casa hablar entiendo carta
        """
    ),
    "so": _words(
        """
        waa iyo ka ku u la ee in ay uu aan baan ayaa ayuu ayay ma waxaan waxay wuxuu
        waxa inaan inay sidee xaggee goorma maxaan maxay immisa yaa haye haa maya
        mahadsanid mahadsantahay fadlan salaan nabad iska warran see tahay yahay ahay
        karaa kartaa rabaa rabtaa u baahanahay caawimaad caawin qof dad ilmo ilmaha
        wiil gabar hooyo aabbe deris qashin biyo kiro lacag maktabad bas dugsi dugsiga
        guri guriga magaalada degmada shaqo hadlo la hadlo fahmin warqad go'aan maanta
        berri halkan halkaas subax habeen wanaagsan oo ee si soo kale waxaa hadii haddii
        laakiin sida ama kuwa kuwaas kaas taas tan kan halka iska isaga iyada iyaga ahaa
        ahayd yihiin jira jiray jirta jiro badan dhan hore dambe markii marka inta intii wax
        mid midka dalka dadka dowladda dawladda sanadka sannadka ugu uga kala kaga kula loo
        lagu laga leh lahaa doonaa sidoo mar kasta dhammaan xitaa weli hadda kadib ilaa
        kuwan qaar qaarkood labada laba saddex afar shan sanad sano maalin maalmood
        toddobaad dunida wadanka waddanka magaalo meel meesha waqti waqtiga xilli xilliga ah
        ahaan saabsan dhex gudaha dibadda kahor sababtoo sababta maxaa sidaas sidan aad
        waxaad waxaana wuxuu ayey
        """
    ),
    "sh": _words(
        """
        i u je da se na za su od sa s ne to kako gdje gde kada zašto ko tko što šta koji
        koja koje moj moja moje tvoj naš vaš ja ti on ona mi vi oni sam si smo ste biti
        imam imaš ima imamo treba trebam trebaš hoću želim mogu možeš može li hvala molim
        zdravo dobro dobar jutro dan veče večer danas sutra ovdje ovde tamo škola
        dijete djeca dete deca sin kćerka mama tata komšija susjed smeće voda kirija
        najamnina novac knjižnica biblioteka autobus karta općina opština grad posao
        stan kuća razgovarati pričati razumijem razumem pismo odluka pomoć pomoci
        gdje sta zasto hocu zelim skola kuca pomoc
        """
    ),
    "kmr": _words(
        """
        ez tu ew em hûn ewan ji li bi di de da re ra ve ku kû çi çima çawa kengî kengê kî
        kîjan kanî derê erê na ne nabe belê spas sipas silav rojbaş êvarbaş şevbaş bixêr
        heye hene tune nîne min te wî wê me we wan xwe dixwazim dixwazî dixwaze dixwazin
        dikarim dikarî dikare dikarin divê bikim dikim dike dikin were here diçim diçe
        alîkarî alîkariyê alîkariya pirs pirsek pirsa zarok zarokê zarokên zarokan dibistan
        dibistanê mal malê xanî kar karê pere av ava bajar bajarê şaredarî şaredariyê
        nexweş nexweşxane bijîşk dayik dayika bav bavê kur keç jin mêr bira xwişk heval
        hevalê cîran cîranê pirtûkxane otobês bilêt ziman zimanê kurdî swêdî îngilîzî
        wergêr axaftin biaxivim bipeyivim baş xirab gelek pir hindik îro sibê duh niha paşê
        berê çend çiqas kes kesek kesekî tiştek tişt rê rêya ciwan kevn nû hefte meh sal
        dem demê saet roj şev sibeh êvar zanim nizanim fam têdigihêjim têderxim jêre jêra
        """
    ),
    "nl": _words(
        """
        de het een van en in is dat op te zijn met voor niet aan er maar om ook als dan
        bij of uit nog wel naar heb hebben kan kunnen wat waar wanneer hoe waarom wie ik
        jij je we wij zij mijn jouw onze dank bedankt hallo goedemorgen alsjeblieft
        """
    ),
    "fr": _words(
        """
        le la les de des du un une et est en que qui dans pour pas sur au avec ce il elle
        je tu nous vous ils mon ma mes ton ta votre notre où quand comment pourquoi qui
        bonjour merci oui non sil plaît besoin aide veux peux suis avez avoir être
        """
    ),
}

#: Letters that point at (positive weight) or away from (negative) a language. Weights are
#: per message, not per occurrence.
def _owners(words: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for lang, vocab in words.items():
        for word in vocab:
            index.setdefault(word, set()).add(lang)
    return {word: frozenset(langs) for word, langs in index.items()}


#: word -> the languages whose frequent words include it (one lookup per token).
OWNERS: Mapping[str, frozenset[str]] = _owners(WORDS)

LETTERS: Mapping[str, Mapping[str, float]] = {
    "å": {"sv": 1.5, "da": 1.5, "no": 1.5},
    "ä": {"sv": 1.0, "fi": 1.0, "de": 1.0, "da": -1.0, "no": -1.0},
    "ö": {"sv": 1.0, "fi": 1.0, "de": 1.0, "tr": 1.0, "da": -1.0, "no": -1.0, "kmr": -1.5},
    "æ": {"da": 2.0, "no": 2.0, "sv": -2.0},
    "ø": {"da": 2.0, "no": 2.0, "sv": -2.0},
    "ü": {"de": 1.5, "tr": 1.5, "sv": -1.5, "kmr": -1.5},
    "ß": {"de": 3.0},
    "ñ": {"es": 3.0},
    "¿": {"es": 3.0},
    "¡": {"es": 3.0},
    "á": {"es": 1.5},
    "í": {"es": 1.5},
    "ú": {"es": 1.5},
    "é": {"es": 1.0, "fr": 1.0},
    "ó": {"es": 1.0, "pl": 1.0},
    "ł": {"pl": 3.0},
    "ą": {"pl": 3.0},
    "ę": {"pl": 3.0},
    "ś": {"pl": 3.0},
    "ź": {"pl": 3.0},
    "ż": {"pl": 3.0},
    "ń": {"pl": 3.0},
    "ć": {"pl": 1.5, "sh": 1.5},
    "ç": {"tr": 2.0, "kmr": 1.0, "fr": 0.5},
    "ş": {"tr": 2.0, "kmr": 2.0},
    "ğ": {"tr": 3.0, "kmr": -2.0},
    "ı": {"tr": 3.0, "kmr": -2.0},
    # Kurmanji: ê î û (with ç ş); Turkish has no ê and no q, w, x.
    "ê": {"kmr": 3.0, "fr": 0.5},
    "î": {"kmr": 2.0, "fr": 0.3},
    "û": {"kmr": 2.0, "fr": 0.3},
    "q": {"tr": -1.5},
    "w": {"tr": -1.5},
    "x": {"tr": -1.5},
    "č": {"sh": 2.5},
    "đ": {"sh": 3.0},
    "š": {"sh": 2.0},
    "ž": {"sh": 2.0},
}


LANGDATA = Path(__file__).with_name("langdata")

#: Detector code -> word list file in ``langdata/`` (stem). Norwegian Bokmål is ``nb`` there.
LIST_FILES: Mapping[str, str] = {
    "sv": "sv", "en": "en", "de": "de", "da": "da", "no": "nb", "fi": "fi", "pl": "pl",
    "tr": "tr", "es": "es", "sh": "sh", "nl": "nl", "fr": "fr", "kmr": "kmr",
    "ru": "ru", "uk": "uk", "sr": "sr", "am": "am", "ti": "ti", "ar": "ar", "fa": "fa", "ps": "ps",
    "so": "so",
}
#: Zipf frequency given to a hand-written word (about "very common").
HAND_ZIPF = 5.0


def _read_list(stem: str) -> dict[str, float]:
    path = LANGDATA / f"{stem}.tsv"
    words: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, _, zipf = line.partition("\t")
            words.setdefault(word, float(zipf or HAND_ZIPF))
    return words


@functools.cache
def zipf_index(codes: tuple[str, ...]) -> Mapping[str, Mapping[str, float]]:
    """word -> {language: Zipf frequency} over `codes`: the langdata list of each code plus
    its hand-written ``WORDS`` (at least ``HAND_ZIPF``). Read once per set of codes."""
    index: dict[str, dict[str, float]] = {}
    for code in codes:
        listed = _read_list(LIST_FILES[code]) if code in LIST_FILES else {}
        for word in WORDS.get(code, frozenset()):
            listed[word] = max(listed.get(word, 0.0), HAND_ZIPF)
        for word, zipf in listed.items():
            index.setdefault(word, {})[code] = zipf
    return index


#: Spelling dictionaries (one word a line, ``langdata/<code>_dict.txt``): whether a word is
#: spelled as a language spells it, for languages with no frequency list (Amharic:
#: Debian's aspell-am). Evidence beside the frequent-word lists, read on first use.
DICTIONARY_FILES: Mapping[str, str] = {"am": "am_dict"}


@functools.cache
def spelling_dictionary(code: str) -> frozenset[str]:
    """The words of `code`'s spelling dictionary (empty when it has none)."""
    stem = DICTIONARY_FILES.get(code)
    if stem is None:
        return frozenset()
    lines = (LANGDATA / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))
