/*
 * pinexec's wait protocol, modelled for SPIN. docs/model/README.md maps every
 * step to the C code; docs/design.md "The wait protocol" explains it.
 *
 * Actors (one process each):
 *   E  a created executor: serves its ring, spins then parks when idle (P1-P5),
 *      finishes when destroy asks (stop_req) and completes the stop request
 *      as its last act; completes each call it runs (E1-E3);
 *   C  a plain thread making two calls to E, one after the other, through the
 *      same reply line (its thread-local line for depth 0): publishes and
 *      notifies (Q1-Q3), spins, announces WAITING (C1) and sleeps on the
 *      line's word (C2);
 *   X  an executor calling E (Q1-Q3 too, racing C): while it waits it serves
 *      its own ring and parks on its own state word (C1, C3, C4); afterwards
 *      it is destroyed;
 *   Q  a producer posting one item to X while X waits on E;
 *   D  px_thread_destroy(E): after the gate drain (every producer of E has
 *      published) it sets stop_req, notifies E, waits for its stop reply like
 *      C (its own line), then frees E.
 *
 * The reply word (src/executor.h px__reply.word) is (generation, state):
 * the completer bumps the generation with one fetch_add; a caller that went
 * to sleep first set the state to WAITING, and then the completer notifies
 * and clears the state with a second store. A call is complete when the
 * generation moved and the state is clear. Generations are kept mod 4: a call
 * only ever compares against the generation it read, one step away.
 *
 * Checked (check.sh wait):
 *   - no lost wake-up, as an invariant (LOST_E, LOST_X below) asserted at
 *     every step where it could become false;
 *   - no deadlock: every process must terminate, so anything asleep forever
 *     is an invalid end state;
 *   - a completion lands on the call it belongs to: a caller never sees its
 *     call complete before E ran it, and a completer never touches a reply
 *     line whose call already returned (the line is reused by C's second
 *     call); nobody touches X after it may be destroyed nor E after it may be
 *     freed;
 *   - a caller spins on a moved-but-WAITING word (C4) only while the
 *     completer is really between its two stores (else it would spin forever);
 *   - everything accepted ran, exactly once;
 *   - with -DLIVE (check.sh live), the LTL property `done`: under weak
 *     fairness every run finishes (no livelock in the spin loops).
 *
 * Memory model: SPIN interleaves steps sequentially consistently. That is
 * exact for this protocol because each of its cross-thread handshakes is a
 * seq_cst store or read-modify-write followed by a seq_cst fence or load
 * (Dekker pairs: P1/P2 vs Q1/Q2; C1's CAS vs E2's fetch_add; E2 vs C3's park
 * re-check). Each load of a shared word is its own step (no compound atomic
 * conditions), so every interleaving between two loads is explored. What
 * relies on x86-TSO store buffering is modelled in space.pml.
 *
 * Futexes: futex_wait(word, val) atomically checks word == val and sleeps;
 * futex_wake clears the sleeper. A signal (EINTR) or spurious wake-up makes
 * futex_wait return early: SPURIOUS of them per run, anywhere.
 */

#ifndef SPURIOUS
#define SPURIOUS 1
#endif

#define RUNNING 0
#define PARKED 1

/* reply state bits */
#define SPIN 0
#define WAITING 1

/* reply lines: C's (two calls), X's, D's (the stop request) */
#define L_C 0
#define L_X 1
#define L_D 2

/* futex words */
#define W_ESTATE 0
#define W_XSTATE 1
#define W_LINE_C 2
#define W_LINE_D 3

bit sleeping[4];
byte spurious = SPURIOUS;

/* the reply lines */
byte gen[3];       /* generation, mod 4 */
byte st[3];        /* state bits */
byte waiter[3];    /* 0: a plain thread, 1: X */
byte pending[3];   /* call id outstanding on the line (0: none) */
bit ran[4];        /* call id (1, 2: C's; 3: X's) ran on E */
bit mid[3];        /* the completer is between its two stores (C4 may spin only then) */

/* executor E: state word and ring (positions 0-2 used, 3 stays empty) */
byte e_state = RUNNING;
byte e_tail = 0;
byte e_head = 0;
bit e_pub[4];
byte e_call[4];    /* the call id of the cell */
bit stop_req = 0;
bit e_alive = 1;
byte e_producers = 0; /* C's two calls and X's one that have published and left the gate */

/* executor X: state word and a ring of one cell (position 1 stays empty) */
byte x_state = RUNNING;
byte x_head = 0;
bit x_pub[2];
bit x_alive = 1;
bit q_done = 0;

/* for the lost-wake-up invariant: wakers between their publication (or stop
 * request, or reply bump) and the end of their notify; X parked in its call */
byte e_notifying = 0;
byte x_notifying = 0;
bit x_in_call = 0;

bit finished = 0;

/*
 * No lost wake-up: an owner is never asleep on its state word while there is
 * work (or its stop condition holds) and every waker has finished notifying.
 * It can only become false when an owner falls asleep or a waker finishes
 * (publication and bumps count themselves in e/x_notifying atomically), so it
 * is asserted at exactly those steps.
 */
#define LOST_E (sleeping[W_ESTATE] && e_state == PARKED && e_notifying == 0 && \
                (e_pub[e_head] || stop_req))
#define LOST_X (sleeping[W_XSTATE] && x_state == PARKED && x_notifying == 0 && \
                (x_pub[x_head] || (x_in_call && !(gen[L_X] == xgen_waiting && st[L_X] == WAITING))))
#define NO_LOST_WAKEUP assert(!LOST_E && !LOST_X)
byte xgen_waiting; /* the generation X announced WAITING at */

/* ---- futex ---------------------------------------------------------------- */

inline futex_wait(w, cond)
{
    atomic { if :: cond -> sleeping[w] = 1; NO_LOST_WAKEUP :: else -> skip fi }
    if
    :: sleeping[w] == 0 -> skip                      /* woken (or never slept) */
    :: atomic { spurious > 0 && sleeping[w] == 1 -> spurious--; sleeping[w] = 0 } /* EINTR */
    fi
}

inline futex_wake(w)
{
    sleeping[w] = 0
}

/* ---- px__notify / px__notify_slow: Q2, Q3 --------------------------------- */

inline notify_e()
{
    atomic { assert(e_alive); s = e_state };        /* Q2: seq_cst load */
    if
    :: s == PARKED ->
       atomic { if :: e_state == PARKED -> e_state = RUNNING; woke = 1 :: else -> woke = 0 fi }; /* Q3: CAS */
       if
       :: woke -> atomic { futex_wake(W_ESTATE); e_notifying--; NO_LOST_WAKEUP }
       :: else -> atomic { e_notifying--; NO_LOST_WAKEUP }
       fi
    :: else -> atomic { e_notifying--; NO_LOST_WAKEUP }
    fi
}

inline notify_x()
{
    atomic { assert(x_alive); s = x_state };
    if
    :: s == PARKED ->
       atomic { if :: x_state == PARKED -> x_state = RUNNING; woke = 1 :: else -> woke = 0 fi };
       if
       :: woke -> atomic { futex_wake(W_XSTATE); x_notifying--; NO_LOST_WAKEUP }
       :: else -> atomic { x_notifying--; NO_LOST_WAKEUP }
       fi
    :: else -> atomic { x_notifying--; NO_LOST_WAKEUP }
    fi
}

/* ---- px__complete: E1-E3 -------------------------------------------------- */

inline complete(L, id, wword)
{
    /* E1 (result) and E2: fetch_add of one generation, seq_cst */
    atomic {
        assert(pending[L] == id);                    /* the line still waits for this call */
        old = st[L];
        gen[L] = (gen[L] + 1) % 4;
        if :: old == WAITING -> mid[L] = 1 :: else -> skip fi;
        if :: L == L_X && old == WAITING -> x_notifying++ :: else -> skip fi
    };
    if
    :: old == SPIN -> skip                           /* the caller spins: done, touch nothing */
    :: else ->
       w = waiter[L];                                /* E3: the caller named itself */
       if :: w -> notify_x() :: else -> skip fi;
       atomic { assert(pending[L] == id); st[L] = SPIN; mid[L] = 0 }; /* release store: complete */
       if :: !w -> futex_wake(wword) :: else -> skip fi  /* may hit the line's next call: harmless */
    fi;
    old = 0; w = 0
}

/* ---- px__call_wait for a plain thread (self == NULL): C1, C2 -------------- */

inline call_wait_plain(L, g, wword)
{
    /* spin phase (none for a PX_WAIT_SLEEP target): one poll stands for
     * any number of them, since polls only read */
    if
    :: gen[L] != g && st[L] == SPIN -> goto done_plain
    :: true -> skip
    fi;
    waiter[L] = 0;                                   /* r->waiter = self (NULL) */
    atomic {                                         /* C1: CAS gen|SPIN -> gen|WAITING */
        if
        :: gen[L] == g && st[L] == SPIN -> st[L] = WAITING; ok = 1
        :: else -> ok = 0
        fi
    };
    if
    :: ok ->
       do
       :: gen[L] != g && st[L] == SPIN -> break      /* done (acquire) */
       :: atomic { gen[L] != g && st[L] == WAITING -> assert(mid[L]) } /* C4: the completer is between its stores */
       :: gen[L] == g ->
          futex_wait(wword, gen[L] == g && st[L] == WAITING)   /* C2 */
       od
    :: else -> skip
    fi;
done_plain:
    skip
}

/* ---- E ---------------------------------------------------------------------- */

proctype Executor()
{
    byte c, s, old;
    bit woke, ready, stop, w;
loop:
    /* px__run_batch */
    do
    :: e_pub[e_head] ->                              /* acquire load of the cell's seq */
       d_step { c = e_call[e_head]; e_head++ };      /* px__ring_pop */
       ran[c] = 1;                                   /* fn runs */
       if
       :: c <= 2 -> complete(L_C, c, W_LINE_C)
       :: else -> complete(L_X, c, W_LINE_C)
       fi;
       c = 0
    :: else -> break
    od;
    /* serve_until_stopped: stopping and nothing left: finish */
    stop = stop_req;                                 /* acquire */
    if
    :: stop ->
       ready = e_pub[e_head];
       if :: ready -> goto loop :: else -> goto stopped fi
    :: else -> skip
    fi;
    /* ADAPTIVE: px__spin_for_work first (one poll stands for any number) */
    if
    :: e_pub[e_head] -> goto loop
    :: stop_req -> goto loop
    :: true -> skip
    fi;
    /* px__park(E, stop_requested, E) */
P1: e_state = PARKED;                                /* seq_cst store; P2: the fence */
P3: ready = e_pub[e_head];
    stop = stop_req;                                 /* stop_requested() */
    if
    :: ready || stop -> e_state = RUNNING
    :: else ->
P4:    futex_wait(W_ESTATE, e_state == PARKED);
P5:    e_state = RUNNING                             /* xchg */
    fi;
    goto loop;
stopped:
    assert(e_head == 3 && ran[1] && ran[2] && ran[3]); /* everything accepted ran */
    complete(L_D, 4, W_LINE_D)                       /* the last act: nothing of E after it */
}

/* ---- producers of E: px__ring_reserve + px__ring_publish ------------------ */

inline publish_e(id)
{
    d_step { pos = e_tail; e_tail++; e_call[pos] = id }; /* reserve (CAS on tail), fill */
    d_step { e_pub[pos] = 1; pos = 0; e_notifying++ }   /* Q1: seq_cst xchg of seq */
}

/* ---- C: two calls through one reply line ---------------------------------- */

proctype Caller()
{
    byte pos, s, g;
    bit woke, ok;
    byte k = 1;
    do
    :: k <= 2 ->
       /* px__reply_begin: between calls the state bits are clear */
       atomic { assert(st[L_C] == SPIN); g = gen[L_C]; pending[L_C] = k };
       publish_e(k);
       notify_e();
       e_producers++;                                /* gate_leave */
       call_wait_plain(L_C, g, W_LINE_C);
       atomic { assert(ran[k]); pending[L_C] = 0 };  /* complete only after E ran it; reply_end */
       k++
    :: else -> break
    od
}

/* ---- X: an executor calling E (px__call_wait with self = X) --------------- */

proctype XCaller()
{
    byte pos, s, g;
    bit woke, ok, ready, moved;
    atomic { g = gen[L_X]; pending[L_X] = 3 };
    publish_e(3);
    notify_e();
    e_producers++;
    /* spin phase, serving X's own ring (px__run_one) */
    do
    :: gen[L_X] != g && st[L_X] == SPIN -> goto out_x
    :: x_pub[x_head] -> x_head++
    :: true -> break
    od;
    waiter[L_X] = 1;                                 /* r->waiter = X */
    atomic {                                         /* C1 */
        if
        :: gen[L_X] == g && st[L_X] == SPIN -> st[L_X] = WAITING; ok = 1; x_in_call = 1; xgen_waiting = g
        :: else -> ok = 0
        fi
    };
    if
    :: !ok -> goto out_x
    :: else -> skip
    fi;
    do
    :: gen[L_X] != g && st[L_X] == SPIN -> break     /* done (acquire) */
C4: :: atomic { gen[L_X] != g && st[L_X] == WAITING -> assert(mid[L_X]) } /* the completer is between its stores */
    :: gen[L_X] == g ->
       ready = x_pub[x_head];
       if
       :: ready -> x_head++                          /* px__run_one(X) */
       :: else ->
          /* px__park(X, reply_moved, ...) */
C3:       x_state = PARKED;                          /* seq_cst store + fence */
          ready = x_pub[x_head];
          moved = !(gen[L_X] == g && st[L_X] == WAITING); /* reply_moved, relaxed */
          if
          :: ready || moved -> x_state = RUNNING
          :: else ->
             futex_wait(W_XSTATE, x_state == PARKED);
             x_state = RUNNING                       /* xchg */
          fi
       fi
    od;
out_x:
    atomic { assert(ran[3]); pending[L_X] = 0; x_in_call = 0 };
    /* X serves its own ring (px__run_batch, then px__park re-checking the
     * ring) until Q's post ran; then it is destroyed, after its gate drain
     * (Q has left: q_done). */
    do
    :: x_head == 1 -> break
    :: else ->
       ready = x_pub[x_head];
       if
       :: ready -> x_head++
       :: else ->
          x_state = PARKED;                          /* P1, P2 on X */
          ready = x_pub[x_head];                     /* P3 on X */
          if
          :: ready -> x_state = RUNNING
          :: else -> futex_wait(W_XSTATE, x_state == PARKED); x_state = RUNNING
          fi
       fi
    od;
    (q_done);                                        /* px__gate_drain of X */
    x_alive = 0
}

proctype XPoster()
{
    byte s;
    bit woke;
    atomic { x_pub[0] = 1; x_notifying++ }          /* Q1 on X's ring */
    notify_x();
    q_done = 1
}

/* ---- D: px_thread_destroy(E) ---------------------------------------------- */

proctype Destroyer()
{
    byte s, g;
    bit woke, ok;
    (e_producers == 3);                              /* px__gate_drain */
    atomic { g = gen[L_D]; pending[L_D] = 4 };       /* px__reply_begin */
    atomic { stop_req = 1; e_notifying++ }          /* seq_cst store of stop_req */
    notify_e();
    call_wait_plain(L_D, g, W_LINE_D);
    pending[L_D] = 0;
    e_alive = 0;                                     /* px__executor_free */
    finished = 1
}

init
{
    atomic {
        waiter[L_X] = 1;
        run Executor();
        run Caller();
        run XCaller();
        run XPoster();
        run Destroyer()
    }
}

#ifdef LIVE
ltl done { <> (finished && !x_alive) }
#endif
