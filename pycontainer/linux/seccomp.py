"""Seccomp: compile an OCI `linux.seccomp` section to a classic BPF program and load it.

Supports what pyc's default profile and Docker-style profiles use: a default action, per-
syscall actions (ALLOW, ERRNO with errnoRet, KILL, TRAP, LOG) and argument conditions on
the low 32 bits of an argument (EQ, NE, LT, LE, GT, GE, MASKED_EQ). Only x86_64 has a
syscall table here; other architectures must run with `seccomp=unconfined` or an external
runtime.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from collections.abc import Mapping
from typing import Any

from pycontainer.errors import ContainerRuntimeError
from pycontainer.linux import syscalls

AUDIT_ARCH_X86_64 = 0xC000003E
SECCOMP_SET_MODE_FILTER = 1
SYS_SECCOMP = 317

RET_KILL_PROCESS = 0x80000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGT_K = 0x25
_JGE_K = 0x35
_JSET_K = 0x45
_AND_K = 0x54
_RET_K = 0x06

_X86_64 = """
    read=0 write=1 open=2 close=3 stat=4 fstat=5 lstat=6 poll=7 lseek=8 mmap=9 mprotect=10
    munmap=11 brk=12 rt_sigaction=13 rt_sigprocmask=14 rt_sigreturn=15 ioctl=16 pread64=17
    pwrite64=18 readv=19 writev=20 access=21 pipe=22 select=23 sched_yield=24 mremap=25 msync=26
    mincore=27 madvise=28 shmget=29 shmat=30 shmctl=31 dup=32 dup2=33 pause=34 nanosleep=35
    getitimer=36 alarm=37 setitimer=38 getpid=39 sendfile=40 socket=41 connect=42 accept=43
    sendto=44 recvfrom=45 sendmsg=46 recvmsg=47 shutdown=48 bind=49 listen=50 getsockname=51
    getpeername=52 socketpair=53 setsockopt=54 getsockopt=55 clone=56 fork=57 vfork=58 execve=59
    exit=60 wait4=61 kill=62 uname=63 semget=64 semop=65 semctl=66 shmdt=67 msgget=68 msgsnd=69
    msgrcv=70 msgctl=71 fcntl=72 flock=73 fsync=74 fdatasync=75 truncate=76 ftruncate=77
    getdents=78 getcwd=79 chdir=80 fchdir=81 rename=82 mkdir=83 rmdir=84 creat=85 link=86
    unlink=87 symlink=88 readlink=89 chmod=90 fchmod=91 chown=92 fchown=93 lchown=94 umask=95
    gettimeofday=96 getrlimit=97 getrusage=98 sysinfo=99 times=100 ptrace=101 getuid=102
    syslog=103 getgid=104 setuid=105 setgid=106 geteuid=107 getegid=108 setpgid=109 getppid=110
    getpgrp=111 setsid=112 setreuid=113 setregid=114 getgroups=115 setgroups=116 setresuid=117
    getresuid=118 setresgid=119 getresgid=120 getpgid=121 setfsuid=122 setfsgid=123 getsid=124
    capget=125 capset=126 rt_sigpending=127 rt_sigtimedwait=128 rt_sigqueueinfo=129
    rt_sigsuspend=130 sigaltstack=131 utime=132 mknod=133 uselib=134 personality=135 ustat=136
    statfs=137 fstatfs=138 sysfs=139 getpriority=140 setpriority=141 sched_setparam=142
    sched_getparam=143 sched_setscheduler=144 sched_getscheduler=145 sched_get_priority_max=146
    sched_get_priority_min=147 sched_rr_get_interval=148 mlock=149 munlock=150 mlockall=151
    munlockall=152 vhangup=153 modify_ldt=154 pivot_root=155 _sysctl=156 prctl=157 arch_prctl=158
    adjtimex=159 setrlimit=160 chroot=161 sync=162 acct=163 settimeofday=164 mount=165 umount2=166
    swapon=167 swapoff=168 reboot=169 sethostname=170 setdomainname=171 iopl=172 ioperm=173
    create_module=174 init_module=175 delete_module=176 get_kernel_syms=177 query_module=178
    quotactl=179 nfsservctl=180 getpmsg=181 putpmsg=182 afs_syscall=183 tuxcall=184 security=185
    gettid=186 readahead=187 setxattr=188 lsetxattr=189 fsetxattr=190 getxattr=191 lgetxattr=192
    fgetxattr=193 listxattr=194 llistxattr=195 flistxattr=196 removexattr=197 lremovexattr=198
    fremovexattr=199 tkill=200 time=201 futex=202 sched_setaffinity=203 sched_getaffinity=204
    set_thread_area=205 io_setup=206 io_destroy=207 io_getevents=208 io_submit=209 io_cancel=210
    get_thread_area=211 lookup_dcookie=212 epoll_create=213 epoll_ctl_old=214 epoll_wait_old=215
    remap_file_pages=216 getdents64=217 set_tid_address=218 restart_syscall=219 semtimedop=220
    fadvise64=221 timer_create=222 timer_settime=223 timer_gettime=224 timer_getoverrun=225
    timer_delete=226 clock_settime=227 clock_gettime=228 clock_getres=229 clock_nanosleep=230
    exit_group=231 epoll_wait=232 epoll_ctl=233 tgkill=234 utimes=235 vserver=236 mbind=237
    set_mempolicy=238 get_mempolicy=239 mq_open=240 mq_unlink=241 mq_timedsend=242
    mq_timedreceive=243 mq_notify=244 mq_getsetattr=245 kexec_load=246 waitid=247 add_key=248
    request_key=249 keyctl=250 ioprio_set=251 ioprio_get=252 inotify_init=253
    inotify_add_watch=254 inotify_rm_watch=255 migrate_pages=256 openat=257 mkdirat=258
    mknodat=259 fchownat=260 futimesat=261 newfstatat=262 unlinkat=263 renameat=264 linkat=265
    symlinkat=266 readlinkat=267 fchmodat=268 faccessat=269 pselect6=270 ppoll=271 unshare=272
    set_robust_list=273 get_robust_list=274 splice=275 tee=276 sync_file_range=277 vmsplice=278
    move_pages=279 utimensat=280 epoll_pwait=281 signalfd=282 timerfd_create=283 eventfd=284
    fallocate=285 timerfd_settime=286 timerfd_gettime=287 accept4=288 signalfd4=289 eventfd2=290
    epoll_create1=291 dup3=292 pipe2=293 inotify_init1=294 preadv=295 pwritev=296
    rt_tgsigqueueinfo=297 perf_event_open=298 recvmmsg=299 fanotify_init=300 fanotify_mark=301
    prlimit64=302 name_to_handle_at=303 open_by_handle_at=304 clock_adjtime=305 syncfs=306
    sendmmsg=307 setns=308 getcpu=309 process_vm_readv=310 process_vm_writev=311 kcmp=312
    finit_module=313 sched_setattr=314 sched_getattr=315 renameat2=316 seccomp=317 getrandom=318
    memfd_create=319 kexec_file_load=320 bpf=321 execveat=322 userfaultfd=323 membarrier=324
    mlock2=325 copy_file_range=326 preadv2=327 pwritev2=328 pkey_mprotect=329 pkey_alloc=330
    pkey_free=331 statx=332 io_pgetevents=333 rseq=334 pidfd_send_signal=424 io_uring_setup=425
    io_uring_enter=426 io_uring_register=427 open_tree=428 move_mount=429 fsopen=430 fsconfig=431
    fsmount=432 fspick=433 pidfd_open=434 clone3=435 close_range=436 openat2=437 pidfd_getfd=438
    faccessat2=439 process_madvise=440 epoll_pwait2=441 mount_setattr=442 quotactl_fd=443
    landlock_create_ruleset=444 landlock_add_rule=445 landlock_restrict_self=446 memfd_secret=447
    process_mrelease=448 futex_waitv=449 set_mempolicy_home_node=450 """
SYSCALLS: dict[str, int] = {
    k: int(v) for k, v in (item.split("=") for item in _X86_64.split())
}


def _action(name: str, errno_ret: int | None) -> int:
    if name == "SCMP_ACT_ALLOW":
        return RET_ALLOW
    if name == "SCMP_ACT_ERRNO":
        return RET_ERRNO | ((1 if errno_ret is None else errno_ret) & 0xFFFF)
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD"):
        return RET_KILL_PROCESS
    if name == "SCMP_ACT_TRAP":
        return RET_TRAP
    if name == "SCMP_ACT_LOG":
        return RET_LOG
    raise ContainerRuntimeError(f"unsupported seccomp action {name}")


Insn = tuple[int, int, int, int]


def _arg_block(arg: dict[str, Any], fail: int) -> list[Insn]:
    """Instructions that fall through when the condition holds and jump `fail` instructions
    past the end of the block when it does not."""
    offset = 16 + 8 * int(arg["index"])  # struct seccomp_data: nr, arch, ip, args[6]
    value = int(arg.get("value", 0)) & 0xFFFFFFFF
    op = arg.get("op", "SCMP_CMP_EQ")
    prog: list[Insn] = [(_LD_W_ABS, 0, 0, offset)]
    if op == "SCMP_CMP_MASKED_EQ":
        prog.append((_AND_K, 0, 0, value))
        value = int(arg.get("valueTwo", 0)) & 0xFFFFFFFF
        op = "SCMP_CMP_EQ"
    jumps = {
        "SCMP_CMP_EQ": (_JEQ_K, False), "SCMP_CMP_NE": (_JEQ_K, True),
        "SCMP_CMP_GT": (_JGT_K, False), "SCMP_CMP_LE": (_JGT_K, True),
        "SCMP_CMP_GE": (_JGE_K, False), "SCMP_CMP_LT": (_JGE_K, True),
    }
    if op not in jumps:
        raise ContainerRuntimeError(f"unsupported seccomp operator {op}")
    code, negate = jumps[op]
    prog.append((code, fail, 0, value) if negate else (code, 0, fail, value))
    return prog


def _rule(nr: int, action: int, args: list[dict[str, Any]]) -> list[Insn]:
    sizes = [len(_arg_block(a, 0)) for a in args]
    body: list[Insn] = []
    for i, arg in enumerate(args):
        # A failed condition skips the later conditions and the return, landing on the reload.
        body += _arg_block(arg, sum(sizes[i + 1 :]) + 1)
    body.append((_RET_K, 0, 0, action))
    reload = [(_LD_W_ABS, 0, 0, 0)] if args else []
    # Skip this rule when the syscall number differs; reload nr after clobbering A.
    return [(_JEQ_K, 0, len(body) + len(reload), nr), *body, *reload]


def compile_profile(profile: Mapping[str, Any]) -> bytes:
    """The BPF program (packed sock_filter array) for an OCI seccomp section."""
    if platform.machine() != "x86_64":
        raise ContainerRuntimeError(
            "pyc's runtime has no seccomp table for this architecture",
            hint="use --security-opt seccomp=unconfined or --runtime runc",
        )
    default = _action(profile.get("defaultAction", "SCMP_ACT_ALLOW"),
                      profile.get("defaultErrnoRet"))
    prog: list[Insn] = [
        (_LD_W_ABS, 0, 0, 4),
        # Other ABIs (i386, x32) are not in the table: allow them rather than break them.
        (_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        (_RET_K, 0, 0, RET_ALLOW),
        (_LD_W_ABS, 0, 0, 0),
    ]
    for rule in profile.get("syscalls") or []:
        action = _action(rule["action"], rule.get("errnoRet"))
        if action == default and not rule.get("args"):
            continue
        for name in rule.get("names") or []:
            nr = SYSCALLS.get(name)
            if nr is not None:
                prog += _rule(nr, action, rule.get("args") or [])
    prog.append((_RET_K, 0, 0, default))
    if len(prog) > 4096:
        raise ContainerRuntimeError("seccomp profile too large for one BPF program")
    return b"".join(struct.pack("HBBI", *insn) for insn in prog)


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load(program: bytes) -> None:
    """Install `program` for this thread and its future children (needs no_new_privs or
    CAP_SYS_ADMIN in the current user namespace)."""
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _Fprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    res = syscalls.libc().syscall(
        SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(fprog)
    )
    if res < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
