"""Docker-style random names (`adjective_surname`) for containers created without --name."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

ADJECTIVES = (
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "blissful",
    "bold", "boring", "brave", "busy", "charming", "clever", "compassionate", "competent",
    "condescending", "confident", "cool", "cranky", "crazy", "dazzling", "determined",
    "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent",
    "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty",
    "funny", "gallant", "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic",
    "hopeful", "hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly",
    "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest", "musing",
    "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic",
    "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical",
    "recursing", "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy",
    "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting",
    "unruffled", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful",
    "xenodochial", "youthful", "zealous", "zen",
)
SURNAMES = (
    "albattani", "allen", "almeida", "agnesi", "archimedes", "ardinghelli", "aryabhata", "austin",
    "babbage", "banach", "bardeen", "bartik", "bassi", "beaver", "bell", "benz", "bhabha",
    "bhaskara", "blackwell", "bohr", "booth", "borg", "bose", "boyd", "brahmagupta", "brattain",
    "brown", "buck", "burnell", "cannon", "carson", "cartwright", "cerf", "chandrasekhar",
    "chaplygin", "chatelet", "chatterjee", "chebyshev", "cohen", "chaum", "clarke", "colden",
    "cori", "cray", "curie", "darwin", "davinci", "dewdney", "dhawan", "diffie", "dijkstra",
    "dirac", "driscoll", "dubinsky", "easley", "edison", "einstein", "elbakyan", "elgamal",
    "elion", "ellis", "engelbart", "euclid", "euler", "faraday", "feistel", "fermat", "fermi",
    "feynman", "franklin", "gagarin", "galileo", "galois", "ganguly", "gates", "gauss", "germain",
    "goldberg", "goldstine", "goldwasser", "golick", "goodall", "gould", "greider",
    "grothendieck", "haibt", "hamilton", "haslett", "hawking", "hellman", "heisenberg", "hermann",
    "herschel", "hertz", "heyrovsky", "hodgkin", "hofstadter", "hoover", "hopper", "hugle",
    "hypatia", "jackson", "jang", "jemison", "jennings", "jepsen", "johnson", "joliot", "jones",
    "kalam", "kapitsa", "kare", "keldysh", "keller", "kepler", "khayyam", "khorana", "kilby",
    "kirch", "knuth", "kowalevski", "lalande", "lamarr", "lamport", "leakey", "leavitt",
    "lederberg", "lehmann", "lewin", "lichterman", "liskov", "lovelace", "lumiere", "mahavira",
    "margulis", "matsumoto", "maxwell", "mayer", "mccarthy", "mcclintock", "mclaren", "mclean",
    "mcnulty", "meitner", "mendel", "mendeleev", "meninsky", "merkle", "mestorf", "mirzakhani",
    "montalcini", "moore", "morse", "murdock", "moser", "napier", "nash", "neumann", "newton",
    "nightingale", "nobel", "noether", "northcutt", "noyce", "panini", "pare", "pascal",
    "pasteur", "payne", "perlman", "pike", "poincare", "poitras", "proskuriakova", "ptolemy",
    "raman", "ramanujan", "ride", "ritchie", "rhodes", "robinson", "roentgen", "rosalind",
    "rubin", "saha", "sammet", "sanderson", "satoshi", "shamir", "shannon", "shaw", "shirley",
    "shockley", "shtern", "sinoussi", "snyder", "solomon", "spence", "stonebraker", "sutherland",
    "swanson", "swartz", "swirles", "taussig", "tesla", "tharp", "thompson", "torvalds", "tu",
    "turing", "varahamihira", "vaughan", "villani", "visvesvaraya", "volhard", "wescoff",
    "wilbur", "wiles", "williams", "williamson", "wilson", "wing", "wozniak", "wright", "wu",
    "yalow", "yonath", "zhukovsky",
)

VALID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
#: Docker sets no limit; a name is one file name in the store (at most 255 bytes), so pyc
#: refuses longer ones up front rather than failing half-way with ENAMETOOLONG.
MAX_LENGTH = 200


def random_name() -> str:
    a, b = int.from_bytes(os.urandom(4), "big"), int.from_bytes(os.urandom(4), "big")
    return f"{ADJECTIVES[a % len(ADJECTIVES)]}_{SURNAMES[b % len(SURNAMES)]}"


def free_name(reserve: Callable[[str, str], None], rid: str) -> str:
    """A random name `reserve(name, rid)` accepts (it raises when the name is taken): Docker's
    adjective_surname, with part of the id appended after 100 collisions. Containers and pods."""
    from pycontainer.errors import PycError

    for _ in range(100):
        name = random_name()
        try:
            reserve(name, rid)
            return name
        except PycError:
            continue
    name = f"{random_name()}_{rid[:6]}"
    reserve(name, rid)
    return name
