"""The class lists: the order the official models output, the names results files use, the
groups the post-processing and the label colours follow."""

from __future__ import annotations

import pytest

from alphaction_demo.action import (AVA_CATEGORIES, COMMON_CATEGORIES, DISPLAY_EXCLUDED_IDS, categories_for,
                                    load_config)
from alphaction_demo.action.categories import GROUPS, group_sizes
from alphaction_demo.pipeline.track_labels import LabelSet

# The official demo visualiser's 15 common categories, in the 15-class model's output order.
OFFICIAL_COMMON = ("dance", "run/jog", "sit", "stand", "swim", "walk", "answer phone", "carry/hold sth.", "drive",
                   "play musical instrument", "ride", "fight/hit sb.", "listen to sb.", "talk", "watch sb.")
OFFICIAL_EXCLUSION = ("crawl", "brush teeth", "catch sth.", "chop", "clink glass", "cook", "dig", "exit", "extract",
                      "fishing", "kick sth.", "paint", "play board game", "play with pets", "press", "row boat",
                      "shovel", "stir", "kick sb.", "play with kids")


def test_ava_ids_follow_output_order():
    assert [c.ava_id for c in AVA_CATEGORIES] == list(range(1, 81))
    assert len({c.name for c in AVA_CATEGORIES}) == len({c.display_name for c in AVA_CATEGORIES}) == 80


@pytest.mark.parametrize("ava_id, name, display, group", [
    (1, "bend/bow (at the waist)", "bend/bow", "pose"),
    (14, "walk", "walk", "pose"),
    (15, "answer phone", "answer phone", "object"),
    (57, "text on/look at a cellphone", "look at a cellphone", "object"),
    (63, "write", "write", "object"),
    (64, "fight/hit (a person)", "fight/hit sb.", "person"),
    (80, "watch (a person)", "watch sb.", "person"),
])
def test_known_classes(ava_id, name, display, group):
    category = AVA_CATEGORIES[ava_id - 1]
    assert (category.ava_id, category.name, category.display_name, category.group) == (ava_id, name, display, group)


@pytest.mark.parametrize("common_cate, classes", [(False, 80), (True, 15)])
def test_group_split_matches_the_model_config(common_cate, classes):
    head = load_config("resnet50_4x16f_baseline", common_cate=common_cate).MODEL.ROI_ACTION_HEAD
    categories = categories_for(classes)
    assert len(categories) == head.NUM_CLASSES == classes
    assert group_sizes(categories) == (head.NUM_PERSON_MOVEMENT_CLASSES, head.NUM_OBJECT_MANIPULATION_CLASSES,
                                       head.NUM_PERSON_INTERACTION_CLASSES)
    groups = [c.group for c in categories]
    assert groups == sorted(groups, key=GROUPS.index), "groups must be contiguous in output order"


def test_common_categories_in_the_demo_model_order():
    assert tuple(c.display_name for c in COMMON_CATEGORIES) == OFFICIAL_COMMON


def test_display_exclusions_are_the_official_list():
    excluded = {AVA_CATEGORIES[i - 1].display_name for i in DISPLAY_EXCLUDED_IDS}
    assert excluded == set(OFFICIAL_EXCLUSION)
    assert LabelSet.display_exclusions(80) == frozenset(OFFICIAL_EXCLUSION)
    assert LabelSet.display_exclusions(15) == frozenset()


def test_unknown_class_count_is_refused():
    with pytest.raises(ValueError, match="80 .*15"):
        categories_for(60)
