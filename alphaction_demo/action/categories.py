"""The action classes the official models predict, in their output order.

The 80-class models predict AVA v2.2's 80 actions, output index i being AVA id i + 1; the
15-class demo model predicts a subset in the order of the official demo's COMMON_CATES. Each class
keeps both names: the official AVA name (what results files and evaluations use) and the shorter
name the official visualiser draws. The groups (pose / object interaction / person interaction)
decide the post-processing (softmax over pose, sigmoid over the rest) and the label colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Tuple

POSE, OBJECT, PERSON = "pose", "object", "person"
GROUPS: Tuple[str, ...] = (POSE, OBJECT, PERSON)
GROUP_TITLES: Dict[str, str] = {
    POSE: "Pose",
    OBJECT: "Object interaction",
    PERSON: "Person interaction",
}


@dataclass(frozen=True)
class Category:
    ava_id: int  # 1..80, the id in AVA's label map and in AVA-format results
    name: str  # the official AVA v2.2 name
    display_name: str  # the official demo's shorter name, drawn in label panels
    group: str  # POSE, OBJECT or PERSON


# (AVA name, display name) for AVA ids 1..80. AVA ids 1-14 are poses, 15-63 interactions with
# objects, 64-80 interactions with people.
_AVA: Tuple[Tuple[str, str], ...] = (
    ("bend/bow (at the waist)", "bend/bow"),
    ("crawl", "crawl"),
    ("crouch/kneel", "crouch/kneel"),
    ("dance", "dance"),
    ("fall down", "fall down"),
    ("get up", "get up"),
    ("jump/leap", "jump/leap"),
    ("lie/sleep", "lie/sleep"),
    ("martial art", "martial art"),
    ("run/jog", "run/jog"),
    ("sit", "sit"),
    ("stand", "stand"),
    ("swim", "swim"),
    ("walk", "walk"),
    ("answer phone", "answer phone"),
    ("brush teeth", "brush teeth"),
    ("carry/hold (an object)", "carry/hold sth."),
    ("catch (an object)", "catch sth."),
    ("chop", "chop"),
    ("climb (e.g., a mountain)", "climb"),
    ("clink glass", "clink glass"),
    ("close (e.g., a door, a box)", "close"),
    ("cook", "cook"),
    ("cut", "cut"),
    ("dig", "dig"),
    ("dress/put on clothing", "dress/put on clothing"),
    ("drink", "drink"),
    ("drive (e.g., a car, a truck)", "drive"),
    ("eat", "eat"),
    ("enter", "enter"),
    ("exit", "exit"),
    ("extract", "extract"),
    ("fishing", "fishing"),
    ("hit (an object)", "hit sth."),
    ("kick (an object)", "kick sth."),
    ("lift/pick up", "lift/pick up"),
    ("listen (e.g., to music)", "listen to sth."),
    ("open (e.g., a window, a car door)", "open"),
    ("paint", "paint"),
    ("play board game", "play board game"),
    ("play musical instrument", "play musical instrument"),
    ("play with pets", "play with pets"),
    ("point to (an object)", "point to sth."),
    ("press", "press"),
    ("pull (an object)", "pull sth."),
    ("push (an object)", "push sth."),
    ("put down", "put down"),
    ("read", "read"),
    ("ride (e.g., a bike, a car, a horse)", "ride"),
    ("row boat", "row boat"),
    ("sail boat", "sail boat"),
    ("shoot", "shoot"),
    ("shovel", "shovel"),
    ("smoke", "smoke"),
    ("stir", "stir"),
    ("take a photo", "take a photo"),
    ("text on/look at a cellphone", "look at a cellphone"),
    ("throw", "throw"),
    ("touch (an object)", "touch sth."),
    ("turn (e.g., a screwdriver)", "turn"),
    ("watch (e.g., TV)", "watch screen"),
    ("work on a computer", "work on a computer"),
    ("write", "write"),
    ("fight/hit (a person)", "fight/hit sb."),
    ("give/serve (an object) to (a person)", "give/serve sth. to sb."),
    ("grab (a person)", "grab sb."),
    ("hand clap", "hand clap"),
    ("hand shake", "hand shake"),
    ("hand wave", "hand wave"),
    ("hug (a person)", "hug sb."),
    ("kick (a person)", "kick sb."),
    ("kiss (a person)", "kiss sb."),
    ("lift (a person)", "lift sb."),
    ("listen to (a person)", "listen to sb."),
    ("play with kids", "play with kids"),
    ("push (another person)", "push sb."),
    ("sing to (e.g., self, a person, a group)", "sing"),
    ("take (an object) from (a person)", "take sth. from sb."),
    ("talk to (e.g., self, a person, a group)", "talk"),
    ("watch (a person)", "watch sb."),
)

_POSE_IDS = range(1, 15)
_OBJECT_IDS = range(15, 64)


def _group_of(ava_id: int) -> str:
    if ava_id in _POSE_IDS:
        return POSE
    return OBJECT if ava_id in _OBJECT_IDS else PERSON


AVA_CATEGORIES: Tuple[Category, ...] = tuple(
    Category(i + 1, name, display, _group_of(i + 1)) for i, (name, display) in enumerate(_AVA)
)

# The 15-class demo model's output order (official demo COMMON_CATES): 6 poses, 5 object and
# 4 person interactions, matching the 6 / 5 / 4 split of `load_config(common_cate=True)`.
COMMON_AVA_IDS: Tuple[int, ...] = (4, 10, 11, 12, 13, 14, 15, 17, 28, 41, 49, 64, 74, 79, 80)
COMMON_CATEGORIES: Tuple[Category, ...] = tuple(AVA_CATEGORIES[i - 1] for i in COMMON_AVA_IDS)

# Rare classes the official demo never draws for the 80-class model (its EXCLUSION list).
DISPLAY_EXCLUDED_IDS: FrozenSet[int] = frozenset(
    (2, 16, 18, 19, 21, 23, 25, 31, 32, 33, 35, 39, 40, 42, 44, 50, 53, 55, 71, 75)
)


def categories_for(num_classes: int) -> Tuple[Category, ...]:
    """The classes of a model with `num_classes` outputs, in output order."""
    if num_classes == len(AVA_CATEGORIES):
        return AVA_CATEGORIES
    if num_classes == len(COMMON_CATEGORIES):
        return COMMON_CATEGORIES
    raise ValueError(
        f"no category list for a model with {num_classes} classes; the official models have 80 (AVA) or 15 (demo)"
    )


def group_sizes(categories: Tuple[Category, ...]) -> Tuple[int, int, int]:
    """(pose, object, person) counts: the split the model's post-processing uses."""
    return tuple(sum(1 for c in categories if c.group == g) for g in GROUPS)  # type: ignore[return-value]
