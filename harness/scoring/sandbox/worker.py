# yardstick's Python fork server. It is started already isolated (session, limits, scrubbed
# environment, and as root: no network, read-only file system but its folder). Per job — one
# JSON line on stdin — it forks; the child takes the job's uid and limits, enters the program's
# folder, points stdin/stdout/stderr at /dev/null and files there, and runs the program as
# `python3 -I -S program.py` would (same exit status, same traceback on stderr). The server
# answers {"pid": …} when the child starts and {"status": …} (the raw wait status) when it ends.
import json
import os
import resource
import sys
import types


def child(job):
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
    os.closerange(3, 65536)
    os.environ["HOME"] = os.environ["TMPDIR"] = job["dir"]
    sys.argv = [job["file"]]
    status = 0
    try:
        with open(job["file"], encoding="utf-8") as handle:
            source = handle.read()
        code = compile(source, job["file"], "exec")
        # The program is __main__, as under `python3 program.py` (pickle and multiprocessing
        # look functions up there).
        main = types.ModuleType("__main__")
        main.__file__ = job["file"]
        sys.modules["__main__"] = main
        exec(code, main.__dict__)
    except SystemExit as exit:
        if exit.code is None:
            status = 0
        elif isinstance(exit.code, int):
            status = exit.code
        else:
            print(exit.code, file=sys.stderr)
            status = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(status & 0xFF)


for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            child(job)
        finally:
            os._exit(70)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": status}), flush=True)
