"""The server settles its start-up heap so full collections walk only what traffic allocates."""

import gc

from smsc.server.run import YOUNG_COLLECTION_AFTER, settle_heap


def test_settle_heap_freezes_what_is_loaded() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    kept = [object() for _ in range(10)], {"a": [1]}
    before = gc.get_threshold()
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        # What was allocated before is out of the collector's generations.
        tracked = {id(o) for o in gc.get_objects()}
        assert id(kept[1]) not in tracked
        assert gc.get_threshold() == (YOUNG_COLLECTION_AFTER, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
