"""Edit > Add hand: adding a hand the detector missed in the current frame (copy it from the nearest
frame before or after that has it, interpolate it between key frames, or place a template hand by a
gesture on the image: press on the wrist, drag to the middle knuckle, release; then drag its joints).
The maths is `handviewer.session.add_hand`; each action is one undoable step."""

from __future__ import annotations

SIDES = ("right", "left")


def build_add_hand_menu(window, edit_menu) -> None:
    """Add the "Add hand" submenu to `edit_menu` of a MainWindow (its actions in `actions_by_name`)."""
    menu = edit_menu.addMenu("Add hand")
    for hand, side in enumerate(SIDES):
        sub = menu.addMenu(f"{side.capitalize()} hand")
        for text, op, step in ((f"Copy {side} hand from previous frame", "copy", -1),
                               (f"Copy {side} hand from next frame", "copy", 1),
                               (f"Interpolate {side} hand between key frames", "interpolate", 0),
                               (f"Place template {side} hand", "template", 0)):
            window._action(sub, text, lambda _=False, h=hand, o=op, s=step: add_hand(window, o, h, s))
    gesture = window.frame_view.template_gesture
    gesture.placed.connect(lambda hand, wrist, release: place_template(window, hand, wrist, release))
    gesture.cancelled.connect(lambda hand: window.say(f"Template {SIDES[hand]} hand not placed", important=True))


def add_hand(window, op: str, hand: int, step: int = 0) -> str:
    """Run one add-hand operation on the current frame (a template arms the gesture on the image); the
    status line says what happened (returned)."""
    from handviewer.session import add_hand as core

    session, side = window.session, SIDES[hand]
    if session.frame_count <= 0 or window.frames is None:
        return ""
    of = core.keypoints_source(session, window.computer.keypoints)
    index = session.current
    try:
        if op == "copy":
            message = f"Copied the {side} hand from frame {core.copy_hand(session, of, index, hand, step)}"
        elif op == "interpolate":
            first, last, n = core.interpolate_hand(session, of, index, hand)
            message = f"Interpolated the {side} hand in {n} frame(s) between frames {first} and {last}"
        else:
            size = tuple(window.frames.size)

            def shape(wrist, release, index=index):
                return core.template_hand(*core.gesture_placement(wrist, release, of(index), hand, size), hand)

            window.frame_view.template_gesture.start(hand, shape)
            message = (f"Place the template {side} hand: press on its wrist in the image, drag to its middle "
                       "knuckle and release (Enter: default spot, Esc: cancel)")
    except ValueError as exc:
        message = f"Cannot add the {side} hand: {exc}"
    window.say(message, important=True)
    return message


def place_template(window, hand: int, wrist, release) -> str:
    """Record the template `hand` placed by the gesture (wrist and release (2,) px, or None for the
    default spot) in the current frame, one undoable step; the status line says so (returned)."""
    from handviewer.session import add_hand as core

    session, side = window.session, SIDES[hand]
    if session.frame_count <= 0 or window.frames is None:
        return ""
    of = core.keypoints_source(session, window.computer.keypoints)
    index, size = session.current, tuple(window.frames.size)
    try:
        mcp = None
        if wrist is not None:
            wrist, mcp = core.gesture_placement(wrist, release, of(index), hand, size)
        core.place_template(session, of, index, hand, size, wrist, mcp)
        message = f"Placed a template {side} hand: drag its joints into place"
    except ValueError as exc:
        message = f"Cannot add the {side} hand: {exc}"
    window.say(message, important=True)
    return message
