"""The article's experiment, bare: the reference conc-tui's overhead is measured against.

    .venv/bin/python benchmarks/article.py MODE TASKS N      (MODE: sequential, threads, processes)

Exactly the article's code: heavy(n, myid) prints "myid is done"; 80 calls by default.
"""
import multiprocessing
import sys
import threading


def heavy(n, myid):
    for x in range(1, n):
        for y in range(1, n):
            x**y
    print(myid, "is done")


def sequential(tasks, n):
    for i in range(tasks):
        heavy(n, i)


def threaded(tasks, n):
    threads = [threading.Thread(target=heavy, args=(n, i)) for i in range(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def processes(tasks, n):
    procs = [multiprocessing.Process(target=heavy, args=(n, i)) for i in range(tasks)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


if __name__ == "__main__":
    mode, tasks, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    {"sequential": sequential, "threads": threaded, "processes": processes}[mode](tasks, n)
