"""Helpers for tests of `handviewer process`."""


def interrupt_after(gen, message_prefix: str) -> None:
    """Run a process_video generator until a progress message starts with `message_prefix`, then
    stop it there, as Ctrl-C would."""
    for _, message in gen:
        if message.startswith(message_prefix):
            break
    gen.close()
