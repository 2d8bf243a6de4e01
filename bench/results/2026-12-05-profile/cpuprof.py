"""Sums a speedscope export of `dotnet-trace --profile dotnet-sampled-thread-time` by frame, running samples only.

usage: cpuprof.py PROFILE.speedscope.json [FRAME_REGEX [CALLERS_OF]]
Samples whose innermost three frames wait (thread-pool semaphores, epoll, sleeps) are counted as waiting and left
out; the rest are shares of the running samples, inclusive (any frame on the stack) and exclusive (the leaf).
"""
import collections
import json
import re
import sys

d = json.load(open(sys.argv[1]))
frames = [f['name'] for f in d['shared']['frames']]
WAIT = re.compile(r'(Wait|Sleep|epoll|WaitForSocketEvents|LowLevelLifoSemaphore|SemaphoreSlim\.Wait|Monitor\.Wait|'
                  r'UNMANAGED_CODE_TIME|Thread::Sleep|futex|ReadEvents|Poll\b)', re.I)


def running_stacks():
    """Yields (frame names root first, milliseconds) for every running interval of every thread."""
    for profile in d['profiles']:
        stack, last = [], None
        for event in profile['events']:
            at = event['at']
            if last is not None and stack:
                names = [frames[i] for i in stack]
                yield names, at - last, any(WAIT.search(n) for n in names[-3:])
            last = at
            if event['type'] == 'O':
                stack.append(event['frame'])
            elif stack:
                stack.pop()


incl, excl, callers = collections.Counter(), collections.Counter(), collections.Counter()
total = waiting = 0.0
target = sys.argv[3] if len(sys.argv) > 3 else None
for names, ms, waits in running_stacks():
    if waits:
        waiting += ms
        continue
    total += ms
    for n in set(names):
        incl[n] += ms
    excl[names[-1]] += ms
    if target:
        for i, n in enumerate(names):
            if target in n:
                callers[' < '.join(reversed(names[max(0, i - 4):i]))] += ms
                break

print(f"running {total:.0f} ms, waiting {waiting:.0f} ms")
pattern = sys.argv[2] if len(sys.argv) > 2 else None
print("== inclusive")
for n, v in incl.most_common(200):
    if not pattern or re.search(pattern, n):
        print(f"{100 * v / total:5.1f}%  {n[:160]}")
print("== exclusive")
for n, v in excl.most_common(25):
    print(f"{100 * v / total:5.1f}%  {n[:160]}")
if target:
    print("== callers of", target)
    for n, v in callers.most_common(8):
        print(f"{100 * v / total:5.1f}%  {n[:400]}")
