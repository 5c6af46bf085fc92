import time

from PySide6.QtCore import QObject, Slot

from handviewer.gui.workers import GeneratorWorker, Job, JobQueue, Partial


class Sink(QObject):
    """Receives worker signals on the GUI thread (queued), like the real window does."""

    def __init__(self):
        super().__init__()
        self.progress, self.partials, self.results, self.errors, self.cancels = [], [], [], [], 0

    @Slot(float, str)
    def on_progress(self, f, m):
        self.progress.append((f, m))

    @Slot(object)
    def on_partial(self, v):
        self.partials.append(v)

    @Slot(object)
    def on_finished(self, v):
        self.results.append(v)

    @Slot(str)
    def on_failed(self, m):
        self.errors.append(m)

    @Slot()
    def on_cancelled(self):
        self.cancels += 1


def connect(worker, sink):
    worker.progress.connect(sink.on_progress)
    worker.partial.connect(sink.on_partial)
    worker.finished.connect(sink.on_finished)
    worker.failed.connect(sink.on_failed)
    worker.cancelled.connect(sink.on_cancelled)


def counting(n, delay=0.0):
    for i in range(n):
        time.sleep(delay)
        yield i / n, f"step {i}"
        if i == 1:
            yield Partial(i)
    return "result"


def test_generator_worker_reports_progress_and_result(qtbot):
    sink, worker = Sink(), GeneratorWorker(counting, 3)
    connect(worker, sink)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    assert sink.results == ["result"] and sink.partials == [1]
    assert [m for _, m in sink.progress] == ["step 0", "step 1", "step 2"]


def test_plain_function_and_failure(qtbot):
    sink, worker = Sink(), GeneratorWorker(lambda a, b: a + b, 2, 3)
    connect(worker, sink)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    assert sink.results == [5]

    def boom():
        yield 0.0, "about to fail"
        raise ValueError("bad input")

    sink, worker = Sink(), GeneratorWorker(boom)
    connect(worker, sink)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    assert sink.results == [] and sink.errors[0].startswith("ValueError: bad input")
    assert "in boom" in sink.errors[0]  # where it happened


def test_cancel_closes_the_generator(qtbot):
    closed = []

    def slow():
        try:
            for i in range(1000):
                time.sleep(0.01)
                yield i / 1000, "slow"
        except GeneratorExit:
            closed.append(True)
            raise
        return "never"

    sink, worker = Sink(), GeneratorWorker(slow)
    connect(worker, sink)
    worker.start()
    qtbot.waitUntil(lambda: len(sink.progress) > 2, timeout=5000)
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.cancel()
    assert sink.cancels == 1 and sink.results == [] and closed == [True]


def test_job_queue_runs_in_order_with_front_replace_and_barriers(qtbot):
    queue, order = JobQueue(), []

    def job(name, kind="k", **kw):
        return Job(kind, lambda: (time.sleep(0.02), name)[1], on_result=order.append, **kw)

    queue.submit(job("first"))  # starts at once
    queue.submit(job("barrier", barrier=True))
    queue.submit(job("normal"))
    queue.submit(job("old-initial", kind="initial"), front=True)
    queue.submit(job("new-initial", kind="initial"), front=True, replace=True)
    with qtbot.waitSignal(queue.idle, timeout=5000):
        pass
    assert order == ["first", "barrier", "new-initial", "normal"]


def test_job_queue_error_and_cancel_callbacks(qtbot):
    queue, seen = JobQueue(), []
    queue.submit(Job("x", lambda: 1 / 0, on_error=lambda m: seen.append(m.split(":")[0])))
    pending = queue.submit(Job("y", lambda: 1, on_cancel=lambda: seen.append("cancelled")))
    queue.cancel(pending)
    with qtbot.waitSignal(queue.idle, timeout=5000):
        pass
    assert seen == ["cancelled", "ZeroDivisionError"] or seen == ["ZeroDivisionError", "cancelled"]
    assert queue.shutdown(1000)
    assert queue.submit(Job("z", lambda: 1)).state == "pending"  # ignored after shutdown


def test_a_preemptible_job_steps_aside_at_a_checkpoint_and_resumes_where_it_was(qtbot):
    from handviewer.gui.workers import CHECKPOINT

    queue = JobQueue()
    order, partials = [], []

    def long_work():
        for chunk in range(4):
            time.sleep(0.05)
            order.append(f"chunk{chunk}")
            yield (chunk + 1) / 4, f"chunk {chunk}"
            yield Partial(chunk)
            yield CHECKPOINT
        return "long done"

    results = []
    long_job = queue.submit(Job("long", long_work, preemptible=True, show_progress=True, on_partial=partials.append,
                                on_result=results.append))
    qtbot.waitUntil(lambda: "chunk0" in order, timeout=3000)
    urgent = queue.submit(Job("initial", lambda: order.append("urgent") or "frame"), front=True)
    qtbot.waitUntil(lambda: long_job.state == "finished", timeout=5000)
    assert urgent.state == "finished" and results == ["long done"]
    # the urgent job ran before the long one's last chunk, and no chunk ran twice
    assert order.index("urgent") < order.index("chunk3")
    assert sorted(o for o in order if o.startswith("chunk")) == ["chunk0", "chunk1", "chunk2", "chunk3"]
    assert partials == [0, 1, 2, 3] and long_job.fraction == 1.0


def test_a_suspended_job_cancelled_while_waiting_closes_its_generator(qtbot):
    from handviewer.gui.workers import CHECKPOINT

    queue = JobQueue()
    closed = []

    def long_work():
        try:
            for _ in range(100):
                time.sleep(0.02)
                yield 0.0, "working"
                yield CHECKPOINT
        finally:
            closed.append(True)

    long_job = queue.submit(Job("long", long_work, preemptible=True))
    qtbot.waitUntil(lambda: long_job.state == "running", timeout=3000)
    import threading

    gate = threading.Event()
    queue.submit(Job("initial", lambda: gate.wait(3.0)), front=True)
    qtbot.waitUntil(lambda: long_job.state == "pending", timeout=3000)  # suspended, queued again
    queue.cancel(long_job)
    gate.set()
    qtbot.waitUntil(lambda: not queue.is_busy(), timeout=3000)
    assert long_job.state == "cancelled" and closed == [True]
