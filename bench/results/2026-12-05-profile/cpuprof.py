import json, sys, collections, re
d = json.load(open(sys.argv[1]))
frames = [f['name'] for f in d['shared']['frames']]
WAIT = re.compile(r'(Wait|Sleep|epoll|WaitForSocketEvents|LowLevelLifoSemaphore|SemaphoreSlim\.Wait|Monitor\.Wait|UNMANAGED_CODE_TIME|Thread::Sleep|futex|ReadEvents|Poll\b)', re.I)
incl = collections.Counter(); excl = collections.Counter(); total = 0.0; waiting = 0.0
stacks = collections.Counter()
for p in d['profiles']:
    stack = []; last = None
    for e in p['events']:
        t = e['at']
        if last is not None and stack:
            dt = t - last
            names = [frames[i] for i in stack]
            if any(WAIT.search(n) for n in names[-3:]):
                waiting += dt
            else:
                total += dt
                for n in set(names): incl[n] += dt
                excl[names[-1]] += dt
                stacks[' > '.join(names[-6:])] += dt
        last = t
        if e['type'] == 'O': stack.append(e['frame'])
        else:
            if stack: stack.pop()
print(f"running {total:.0f} ms, waiting {waiting:.0f} ms")
pat = sys.argv[2] if len(sys.argv) > 2 else None
print("== inclusive")
for n, v in incl.most_common(200):
    if pat and not re.search(pat, n): continue
    print(f"{100*v/total:5.1f}%  {n[:160]}")
print("== exclusive")
for n, v in excl.most_common(25): print(f"{100*v/total:5.1f}%  {n[:160]}")
if len(sys.argv) > 3:
    target = sys.argv[3]
    callers = collections.Counter()
    for p in d['profiles']:
        stack = []; last = None
        for e in p['events']:
            t = e['at']
            if last is not None and stack:
                names = [frames[i] for i in stack]
                if not any(WAIT.search(n) for n in names[-3:]):
                    for i, n in enumerate(names):
                        if target in n:
                            callers[' < '.join(reversed(names[max(0,i-4):i]))] += t - last
                            break
            last = t
            if e['type'] == 'O': stack.append(e['frame'])
            elif stack: stack.pop()
    print("== callers of", target)
    for n, v in callers.most_common(8): print(f"{100*v/total:5.1f}%  {n[:400]}")
