import io

from services.cli.progress import Progress


def test_off_a_terminal_a_short_run_says_nothing():
    log = io.StringIO()
    progress = Progress(log, every=3600)
    progress.update("checked 200 entries")
    progress.done()
    assert log.getvalue() == ""
    progress.update("checked 400 entries", force=True)
    assert log.getvalue() == "checked 400 entries\n"


def test_on_a_terminal_one_line_is_rewritten_and_cleared():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen)
    progress.update("checked 200 entries")
    progress.update("checked 400 entries")
    progress.done()
    assert screen.getvalue() == (
        "\r\x1b[2Kchecked 200 entries\r\x1b[2Kchecked 400 entries\r\x1b[2K"
    )
