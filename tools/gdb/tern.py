"""gdb commands for Tern kernels (load with `source tools/gdb/tern.py`;
`tools/run.py --gdb` prints a command line that does).

  tern threads        every thread: address, name, state, priority (effective
                      and base), stack used/size, the saved stack pointer
  tern bt THREAD      THREAD's backtrace (a name, a number from `tern threads`,
                      or an address); for a thread that is not running, from
                      the context it saved when it switched out

Everything is read from the kernel's own structures through the ELF's debug
information: the thread list (rtos::kernel thread_list), rtos_cpu_local's (SMP: rtos_cpu_locals')
current thread, the Thread fields, and the stack fill pattern for stack use.
A thread that is not running last ran rtos_arch_switch, whose frame is at its
saved sp; `tern bt` points pc at the port's resume label and sp at that
frame, prints the backtrace (the ports' call-frame information carries it
through the switch and any trap frame into the thread's own code), and puts
pc and sp back.
"""
import gdb

STACK_FILL = 0xaa  # rtos/kernel/scheduler.hpp kStackFill
STATES = {  # rtos::ThreadState
    0: 'created', 1: 'ready', 2: 'running', 3: 'blocked', 4: 'sleeping', 5: 'suspended',
    6: 'exited'}
RESUME = ('rtos_riscv_resume', 'rtos_aarch64_resume')


def _lookup(names):
    """The first of several spellings of a (possibly file-local) symbol."""
    for name in names:
        try:
            return gdb.parse_and_eval(name)
        except gdb.error:
            continue
    raise gdb.GdbError(f'tern: symbol not found ({names[0]}); is the ELF loaded?')


def _thread_type():
    return gdb.lookup_type('rtos::Thread')


def _field_offset(struct, name):
    for f in struct.fields():
        if f.name == name:
            return f.bitpos // 8
    raise gdb.GdbError(f'tern: rtos::Thread has no field {name}')


def threads():
    """The kernel's threads, in list order, as gdb.Value pointers."""
    tlist = _lookup(["'rtos::kernel::(anonymous namespace)::thread_list'",
                     "rtos::kernel::thread_list"])
    thread_ptr = _thread_type().pointer()
    offset = _field_offset(_thread_type(), 'all_node')
    head = tlist['head_'].address
    node = tlist['head_']['next']
    out = []
    while int(node) != int(head) and len(out) < 1024:  # a corrupt list must not loop
        out.append(gdb.Value(int(node) - offset).cast(thread_ptr))
        node = node['next']
    return out


def current():
    """The thread running on the CPU gdb has selected. SMP builds have one
    CpuLocal per CPU (rtos_cpu_locals); QEMU's gdb thread n is CPU index
    n - 1, whose hart id / MPIDR affinity is CpuLocal::hw_id."""
    try:
        cpus = gdb.parse_and_eval('rtos_cpu_locals')
    except gdb.error:
        return int(_lookup(['rtos_cpu_local'])['current'])
    sel = gdb.selected_thread()
    index = sel.num - 1 if sel else 0
    lo, hi = cpus.type.range()
    for i in range(lo, hi + 1):
        c = cpus[i]
        if bool(c['online']) and int(c['hw_id']) == index:
            return int(c['current'])
    return int(cpus[0]['current'])


def state(t):
    s = int(t['run_state'])
    if s == 1 and int(t) == current():
        return 'running'  # Thread::state(): the running thread stays ready
    return STATES.get(s, str(s))


def name(t):
    try:
        return t['thread_name'].string()[:32]
    except gdb.MemoryError:
        return '?'


def stack_use(t):
    """(used, size) as Thread::stack_unused() counts: bytes above the fill."""
    size = int(t['stack_bytes'])
    base = int(t['stack_base'])
    if not base or not size or size > (16 << 20):  # not set up yet, or not a stack
        return 0, size
    data = bytes(gdb.selected_inferior().read_memory(base, size))
    unused = len(data) - len(data.lstrip(bytes([STACK_FILL])))
    return size - unused, size


def find(spec):
    ts = threads()
    if spec.isdigit() and int(spec) < len(ts):
        return ts[int(spec)]
    for t in ts:
        if name(t) == spec:
            return t
    try:
        addr = int(spec, 0)
    except ValueError:
        addr = None
    for t in ts:
        if int(t) == addr:
            return t
    raise gdb.GdbError(f"tern: no thread '{spec}' (see tern threads)")


class Tern(gdb.Command):
    """Tern kernel helpers: tern threads, tern bt THREAD."""

    def __init__(self):
        super().__init__('tern', gdb.COMMAND_USER, prefix=True)


class TernThreads(gdb.Command):
    """List the kernel's threads: name, state, priority, stack use."""

    def __init__(self):
        super().__init__('tern threads', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        print(f'{"#":>2} {"THREAD":<18} {"NAME":<16} {"STATE":<9} {"PRI":>3} {"BASE":>4} '
              f'{"STACK":>13} {"SP":<18}')
        for i, t in enumerate(threads()):
            used, size = stack_use(t)
            mark = '*' if int(t) == current() else ' '
            print(f'{i:>2} {int(t):#018x} {name(t):<16} {state(t):<9} {int(t["prio"]):>3} '
                  f'{int(t["base_prio"]):>4} {f"{used}/{size}":>13} {int(t["sp"]):#018x}{mark}')


class TernBt(gdb.Command):
    """Backtrace of one thread: tern bt NAME|NUMBER|ADDRESS [bt options]."""

    def __init__(self):
        super().__init__('tern bt', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv:
            raise gdb.GdbError('usage: tern bt NAME|NUMBER|ADDRESS')
        t = find(argv[0])
        rest = ' '.join(argv[1:])
        print(f'Thread {name(t)} ({state(t)}):')
        if int(t) == current():
            gdb.execute(f'backtrace {rest}')
            return
        resume = None
        for sym in RESUME:
            s = gdb.lookup_global_symbol(sym) or gdb.lookup_static_symbol(sym)
            if s is None:
                try:
                    resume = int(gdb.parse_and_eval(f'(long)&{sym}'))
                    break
                except gdb.error:
                    continue
            resume = int(s.value().address)
            break
        if resume is None:
            raise gdb.GdbError('tern: no resume label (rtos_riscv_resume / rtos_aarch64_resume)')
        gdb.execute('select-frame 0')
        pc, sp = int(gdb.parse_and_eval('$pc')), int(gdb.parse_and_eval('$sp'))
        try:
            gdb.execute(f'set $sp = {int(t["sp"]):#x}')
            gdb.execute(f'set $pc = {resume:#x}')
            gdb.execute(f'backtrace {rest}')
        finally:
            gdb.execute(f'set $sp = {sp:#x}')
            gdb.execute(f'set $pc = {pc:#x}')


Tern()
TernThreads()
TernBt()
