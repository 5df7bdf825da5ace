/*
 * Waiting for ring space on a driven executor, under x86-TSO (a store
 * buffer on the consumer), for SPIN. docs/model/README.md maps the steps to
 * the C code.
 *
 * The consumer pops with a release store of head and then reads
 * space_waiters with a relaxed load (src/serve.c space_check, which moreover
 * wakes only once per space_batch freed cells). On x86 (and any TSO or weaker
 * machine) that load can be satisfied while the store of head still sits in
 * the store buffer: the store-buffering outcome. The design makes that
 * harmless with a fenced re-check (px__space_check_fenced) wherever the owner
 * stops taking items: the end of a batch, px__run_one, px__park. This model
 * asks whether every pop is followed by such a re-check before the owner
 * stops serving.
 *
 * Scenario: D is a driven (attached) executor with a ring of one cell, which
 * holds one item; its hook has fired for it (hook_pending). D's owner, in its
 * own code (AWAY), first makes a px_call to another executor: while it waits
 * (px__call_wait with self = D) it serves its own ring with px__run_one, then
 * the call completes and it leaves (px__leave_wait). Then it handles the
 * hook with px_drain and goes back to waiting for its hook. Meanwhile P, a
 * plain thread, posts to D: the ring is full, so it waits for space
 * (px__space_wait: register in space_waiters, fence, re-check head, sleep on
 * space_seq).
 *
 * Checked: P's post always completes. Every process must end; D's owner may
 * end only idle in its event loop (end label), so P asleep forever on
 * space_seq is an invalid end state.
 *
 * Build with -DUNFENCED_RUN_ONE for the code as it was when issue 6 was
 * reviewed: px__run_one used the relaxed per-item check only, and the owner
 * could pop inside px_call and return to its own code without a fenced
 * re-check. SPIN finds the lost wake-up there (check.sh mutants), and none
 * in the code as it is.
 */

#define RUNNING 0
#define PARKED 1
#define AWAY 2

/* D's ring: capacity 1, positions 0 (queued at the start) and 1 (P's) */
byte tail = 1;
bit pub[3];
byte head_mem = 0;   /* head as other threads see it */
bit hb_valid = 0;    /* D's store buffer: a pending store of head */
byte hb_val;

byte d_state = AWAY;
bit armed = 0;        /* the hook fired for item 0 and was not re-armed */
bit hook_pending = 1; /* ...and the owner has not handled it yet */
byte ran = 0;

byte space_seq = 0;
byte space_waiters = 0;
byte space_freed = 0; /* owner only */
#define SPACE_BATCH 1     /* capacity 1: cap / 4 < 1, so 1 (src/lifecycle.c) */
bit p_sleeping = 0;   /* P in futex_wait(space_seq) */
bit p_done = 0;

/* D's view of head: its own pending store first (store forwarding). */
#define D_HEAD (hb_valid -> hb_val : head_mem)

/* A locked instruction or mfence on D: the store buffer drains first. */
inline flush()
{
    d_step { if :: hb_valid -> head_mem = hb_val; hb_valid = 0 :: else -> skip fi }
}

/* The store buffer drains on its own at any time. */
active proctype Drain()
{
end: do
    :: d_step { hb_valid -> head_mem = hb_val; hb_valid = 0 }
    od
}

/* px__wake_space_waiters on D: fetch_add (locked) + futex_wake(all). */
inline wake_space()
{
    flush();
    d_step { space_seq++; p_sleeping = 0 }
}

/* space_check in src/serve.c: relaxed load, no fence, once per batch of
 * freed cells. */
inline space_check()
{
    if
    :: space_waiters != 0 ->
       space_freed++;
       if
       :: space_freed >= SPACE_BATCH -> space_freed = 0; wake_space()
       :: else -> skip
       fi
    :: else -> skip
    fi
}

/* px__space_check_fenced: seq_cst fence, then wake whatever the count. */
inline space_check_fenced()
{
    flush();
    if
    :: space_waiters != 0 -> space_freed = 0; wake_space()
    :: else -> skip
    fi
}

/* px__ring_pop on D: the store of head goes to the store buffer. */
inline pop()
{
    d_step { h = D_HEAD; hb_valid = 1; hb_val = h + 1; h = 0 } /* release store of head */
}

/* px__run_one on D */
inline run_one()
{
    pop();
#ifdef UNFENCED_RUN_ONE
    space_check();
#else
    space_check_fenced();
#endif
    ran++
}

/* px__notify_away on D (by D or P): one hook per arm. */
inline notify_away()
{
    atomic { if :: armed -> armed = 0; hook_pending = 1 :: else -> skip fi }
}

/* px__leave_wait(D, AWAY) */
inline leave_wait()
{
    flush(); d_state = AWAY;                         /* seq_cst store (xchg) */
    flush();                                         /* seq_cst fence */
    if
    :: pub[D_HEAD] -> notify_away()
    :: else -> skip
    fi
}

proctype Owner()
{
    byte h, n;
    /* px_call(E, ...) from the owner's own code: px__call_wait(self = D).
     * E completes the call at any time; the spin loop may serve D's ring.
     * (The park path is left out: it re-checks with a fence, so the
     * question is whether the path without it is safe.) */
    flush(); d_state = RUNNING;                      /* px__enter_wait: seq_cst store */
    do
    :: pub[D_HEAD] -> run_one()                      /* px__run_one(D) while spinning */
    :: true -> break                                 /* E completed the call */
    od;
    leave_wait();
    /* The owner's event loop: handle the hook with px_drain, then wait for
     * the next hook (an idle owner may wait forever: end label). */
end:
    do
    :: hook_pending ->
       hook_pending = 0;
       /* px_drain(D, 0): enter_serve, run_batch(queued), leave_wait */
       flush(); d_state = RUNNING;                   /* px__enter_wait */
       flush(); armed = 1;                           /* seq_cst store */
       n = tail - D_HEAD;                            /* queued(): relaxed */
       if
       :: n > 0 ->
          do
          :: n > 0 && pub[D_HEAD] -> pop(); space_check(); ran++; n--   /* px__run_batch */
          :: else -> break
          od;
          space_check_fenced()                       /* the end of the batch */
       :: else -> skip
       fi;
       leave_wait()
    od
}

/* P: px_post(D) from a plain thread. */
proctype Poster()
{
    byte seq, p, s;
    p = tail;                                        /* px__ring_reserve: relaxed tail */
    if
    :: p - head_mem < 1 -> goto reserve              /* not full: take it */
    :: else -> skip                                  /* full: -EAGAIN, wait for space */
    fi;
    do
    :: seq = space_seq;                              /* seq_cst */
       space_waiters++;                              /* seq_cst RMW */
       /* seq_cst fence; then px__ring_reserve again */
       if
       :: tail - head_mem < 1 -> space_waiters--; break
       :: else ->
          atomic { if :: space_seq == seq -> p_sleeping = 1 :: else -> skip fi };
          p_sleeping == 0;                           /* futex_wait(space_seq, seq) */
          space_waiters--
       fi
    od;
reserve:
    skip;
    d_step { p = tail; tail++; pub[p] = 1; p = 0 };  /* reserve, fill, publish (seq_cst xchg) */
    s = d_state;                                     /* px__notify: seq_cst load */
    if
    :: s == AWAY -> notify_away()
    :: else -> skip                                  /* RUNNING: D is serving (PARKED: not modelled) */
    fi;
    p_done = 1
}

init
{
    atomic {
        pub[0] = 1;
        run Owner();
        run Poster()
    }
}
