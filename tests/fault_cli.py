"""`python tests/fault_cli.py ARGS...` runs `w2v-ext ARGS...` with one rank of a
distributed run made to fail on purpose, for test_distributed.py. The environment
variable W2V_EXT_TEST_FAULT="RANK:MODE[@STAGE]" picks the rank, MODE raise / exit /
hang, and STAGE vocab (while counting) or train (after the first trained piece, the
default). Training fails through the model's backend hook; counting is patched in."""
import os
import sys
import time

FAULT_ENV = "W2V_EXT_TEST_FAULT"


def _install(spec: str, rank: int) -> None:
    where, _, mode = spec.partition(":")
    mode, _, stage = mode.partition("@")
    if int(where) != rank:
        return

    def fail():
        if mode == "exit":
            os._exit(3)
        if mode == "hang":
            while True:
                time.sleep(60)
        raise RuntimeError(f"injected test fault ({FAULT_ENV}={spec})")

    if (stage or "train") == "vocab":
        import w2v_ext.distributed as distributed
        count_words = distributed.count_words

        def failing_count(*args, **kwargs):
            fail()
            return count_words(*args, **kwargs)

        distributed.count_words = failing_count
    else:
        from w2v_ext import trainer

        def failing(backend):   # the backend hook: fail after the first trained piece
            train_block = backend.train_block

            def train_and_fail(*args, **kwargs):
                result = train_block(*args, **kwargs)
                fail()
                return result
            backend.train_block = train_and_fail
            return backend

        class FailingWord2Vec(trainer.Word2Vec):   # the model the CLI makes (or loads) gets the hook
            def __init__(self, *args, **kwargs):
                super().__init__(*args, backend_hook=failing, **kwargs)

        trainer.Word2Vec = FailingWord2Vec


if __name__ == "__main__":
    if os.environ.get(FAULT_ENV):
        _install(os.environ[FAULT_ENV], int(os.environ.get("RANK", "0")))
    from w2v_ext.cli import main
    sys.exit(main(sys.argv[1:]))
