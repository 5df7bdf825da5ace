/*
 * pinexec's wait protocol, modelled for SPIN (docs/model/README.md maps every
 * step to the C code; docs/design.md "The wait protocol" explains it).
 *
 * Actors (one process each):
 *   E  a created executor: serves its ring, parks when idle (P1-P5), stops
 *      when destroy asks (stop_req) and completes the stop request last;
 *   C  a plain thread calling E (publish and notify: Q1-Q3), then waiting on
 *      its request word (C1, C2);
 *   X  an executor calling E (Q1-Q3 too, racing C's notify): while it waits
 *      it serves its own ring and parks
 *      on its own state word (C1, C3, C4); afterwards it is destroyed;
 *   Q  a producer posting one item to X while X waits on E;
 *   D  px_thread_destroy(E): after the gate drain (both producers of E
 *      have published) it sets stop_req, notifies E, waits for the stop
 *      request like C, then frees E.
 *
 * Checked:
 *   - no lost wake-up and no deadlock: every process must terminate, so a
 *     process asleep in futex_wait that nobody wakes is an invalid end state
 *     (spin's default safety check, `pan -E` off);
 *   - assertions: everything published ran exactly once; a completer never
 *     touches a request after the caller may have returned (req_alive) nor an
 *     executor after it may have been freed (e_alive, x_alive);
 *   - with -DLIVE, the LTL property `done`: under weak fairness, every run
 *     eventually finishes (no livelock in the spin loops, e.g. C4).
 *
 * Memory model: SPIN interleaves steps sequentially consistently. That is
 * exact here because every cross-thread handshake of this protocol is a
 * seq_cst store (or read-modify-write) followed by a seq_cst fence or load
 * (Dekker pairs P1/P2 vs Q1/Q2, C1 vs E2, E3 vs C3's park re-check); the
 * relaxed and acquire accesses are modelled as separate steps at their place
 * in program order. Each load of a shared word is its own step (no compound
 * atomic conditions), so every interleaving between two loads is explored.
 *
 * Futexes: futex_wait(word, val) atomically checks word == val and sleeps;
 * futex_wake clears the sleeper. Each futex word has at most one sleeper
 * here. A signal (EINTR) or spurious wake-up makes futex_wait return early:
 * the model allows SPURIOUS of them per run, anywhere.
 */

#ifndef SPURIOUS
#define SPURIOUS 1
#endif

#define RUNNING 0
#define PARKED 1

#define PENDING 0
#define WAITING 1
#define WAKING 2
#define DONE 3

/* requests: 0 the stop request, 1 C's call, 2 X's call */
#define R_STOP 0
#define R_C 1
#define R_X 2

/* futex words */
#define W_ESTATE 0
#define W_XSTATE 1
#define W_DONE_STOP 2
#define W_DONE_C 3
#define W_DONE_X 4

bit sleeping[5];
byte spurious = SPURIOUS;

/* executor E: state word, ring (positions 0..1 used, 2 stays unpublished) */
byte e_state = RUNNING;
byte e_tail = 0;
byte e_head = 0;
bit e_pub[3];
byte e_req[3];   /* the request id + 1 */
bit stop_req = 0;
bit e_alive = 1;

/* executor X: state word and a ring of 1 (position 1 stays unpublished) */
byte x_state = RUNNING;
byte x_head = 0;
bit x_pub[2];
bit x_alive = 1;
byte x_posts_ran = 0;
bit q_done = 0;

/* requests */
byte done[3];
byte waiter[3];  /* 0: none (plain thread), 1: X */
bit req_alive[3];
byte published_to_e = 0; /* the gate: producers of E that published and left */

/* For the lost-wake-up monitor: wakers between their publication (or stop
 * request, or WAKING) and the end of their notify, per executor; whether X
 * is parked inside its call wait. */
byte e_notifying = 0;
byte x_notifying = 0;
bit x_in_call = 0;

bit finished = 0; /* everything terminated as it should */

/*
 * No lost wake-up, as an invariant: an owner is never asleep on its state
 * word while work (or its stop condition) is there for it and every waker
 * has finished notifying. (As a deadlock, a lost wake-up could hide behind a
 * later notification, e.g. destroy's.) It can only become false when an
 * owner falls asleep or a waker finishes, so it is asserted at exactly those
 * steps (futex_wait, end of notify).
 */
#define LOST_E (sleeping[W_ESTATE] && e_state == PARKED && e_notifying == 0 && (e_pub[e_head] || stop_req))
#define LOST_X (sleeping[W_XSTATE] && x_state == PARKED && x_notifying == 0 && \
                (x_pub[x_head] || (x_in_call && done[R_X] != WAITING)))
#define NO_LOST_WAKEUP assert(!LOST_E && !LOST_X)

/* ---- futex ---------------------------------------------------------------- */

inline futex_wait(w, word, val)
{
    atomic { if :: word == val -> sleeping[w] = 1; NO_LOST_WAKEUP :: else -> skip fi }
    if
    :: sleeping[w] == 0 -> skip                      /* woken (or never slept) */
    :: atomic { spurious > 0 && sleeping[w] == 1 -> spurious--; sleeping[w] = 0 } /* EINTR */
    fi
}

inline futex_wake(w)
{
    sleeping[w] = 0
}

/* ---- notify (px__notify + px__notify_slow): Q2, Q3 ------------------------ */

inline notify_e()
{
    atomic { assert(e_alive); s = e_state };        /* Q2: seq_cst load */
    if
    :: s == PARKED ->
       atomic {  /* Q3: CAS PARKED -> RUNNING */ if :: e_state == PARKED -> e_state = RUNNING; woke = 1 :: else -> woke = 0 fi };
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

/* ---- completion (px__complete): E1-E3 ------------------------------------- */

inline complete(i, wdone)
{
    atomic {                                         /* E1 (result write) and E2: CAS */
        assert(req_alive[i]);
        if :: done[i] == PENDING -> done[i] = DONE; fast = 1 :: else -> fast = 0 fi
    };
    if
    :: fast -> skip                                  /* the caller may return now */
    :: else ->
       /* the caller announced WAITING: it cannot leave before DONE */
       atomic { assert(req_alive[i]); w = waiter[i] };
       if
       :: w == 0 ->
          done[i] = DONE;                            /* E3, no waiter: release */
          futex_wake(wdone)                          /* may hit a gone frame: harmless */
       :: else ->
          atomic { done[i] = WAKING; x_notifying++ }  /* E3, waiter X: seq_cst */
          notify_x();
          atomic { assert(req_alive[i]); done[i] = DONE } /* release */
       fi
    fi
}

/* ---- the caller's wait (px__call_wait) for a plain thread: C1, C2 --------- */

inline call_wait_plain(i, wdone)
{
    /* spin phase: polls until a deadline (none for a PX_WAIT_SLEEP target);
     * one poll at any point stands for any number of them (they only read) */
    if
    :: done[i] == DONE -> goto out_plain
    :: true -> skip
    fi;
    atomic { if :: done[i] == PENDING -> done[i] = WAITING; ok = 1 :: else -> ok = 0 fi };
    if
    :: ok ->
       do
       :: done[i] == DONE -> break                   /* acquire */
       :: else ->
          futex_wait(wdone, done[i], WAITING)          /* C2 */
       od
    :: else -> skip
    fi;
out_plain:
    req_alive[i] = 0                                 /* the frame is gone */
}

/* ---- E ---------------------------------------------------------------------- */

inline run_one_e()
{
    /* px__ring_pop: read the cell, release head (one step: nothing else in
     * the model reads head or a published cell) */
    d_step { r = e_req[e_head]; e_head++ };
    if
    :: r == 2 -> complete(R_C, W_DONE_C)
    :: r == 3 -> complete(R_X, W_DONE_X)
    fi
}

proctype Executor()
{
    byte r, s;
    bit fast, woke, ready, stop, w;
loop:
    /* px__run_batch */
    do
    :: e_pub[e_head] -> run_one_e()                  /* acquire load of the cell's seq */
    :: else -> break
    od;
    /* serve_until_stopped: stop requested and nothing ready: finish */
    stop = stop_req;                                 /* acquire */
    if
    :: stop ->
       ready = e_pub[e_head];
       if :: ready -> goto loop :: else -> goto stopped fi
    :: else -> skip
    fi;
    /* ADAPTIVE: spin a while first (px__spin_for_work; one poll stands for
     * any number, as above) */
    if
    :: e_pub[e_head] -> goto loop
    :: stop_req -> goto loop
    :: true -> skip
    fi;
    /* px__park */
P1: e_state = PARKED;                                /* seq_cst store; P2: the fence */
P3: ready = e_pub[e_head];
    stop = stop_req;
    if
    :: ready || stop -> e_state = RUNNING
    :: else ->
P4:    futex_wait(W_ESTATE, e_state, PARKED);
P5:    e_state = RUNNING                             /* xchg */
    fi;
    goto loop;
stopped:
    assert(e_head == e_tail);                        /* ran everything accepted */
    complete(R_STOP, W_DONE_STOP)                    /* the last act: touches nothing of E after */
}

/* ---- producers of E ------------------------------------------------------- */

inline publish_e(kind)
{
    d_step { pos = e_tail; e_tail++; e_req[pos] = kind };  /* reserve (CAS on tail), fill */
    d_step { e_pub[pos] = 1; pos = 0; e_notifying++ } /* Q1: seq_cst xchg of seq */
}

proctype Caller()
{
    byte pos, s, d;
    bit woke, ok;
    publish_e(2);
    notify_e();
    published_to_e++;
    call_wait_plain(R_C, W_DONE_C)
}

/* ---- X: an executor that calls E (px__call_wait with self = X) ------------ */

inline run_one_x()
{
    x_head++;
    x_posts_ran++
}

proctype XCaller()
{
    byte pos, s, d;
    bit woke, ok, ready, stopc;
    publish_e(3);
    notify_e();
    published_to_e++;
    /* spin phase, serving X's own ring (px__run_one) */
    do
    :: done[R_X] == DONE -> goto out_x
    :: x_pub[x_head] -> run_one_x()
    :: true -> break
    od;
C1x: atomic { if :: done[R_X] == PENDING -> done[R_X] = WAITING; ok = 1; x_in_call = 1 :: else -> ok = 0 fi };
    if
    :: !ok -> goto out_x
    :: else -> skip
    fi;
    do
    :: done[R_X] == DONE -> break                    /* acquire */
C4: :: done[R_X] == WAKING -> skip                   /* the completer is between two stores */
    :: else ->
       ready = x_pub[x_head];
       if
       :: ready -> run_one_x()                       /* px__run_one(X) */
       :: else ->
          /* px__park(X, req_not_waiting, req) */
C3:       x_state = PARKED;                          /* seq_cst store + fence */
          ready = x_pub[x_head];
          stopc = (done[R_X] != WAITING);            /* stop_cond, relaxed */
          if
          :: ready || stopc -> x_state = RUNNING
          :: else ->
             futex_wait(W_XSTATE, x_state, PARKED);
             x_state = RUNNING                       /* xchg */
          fi
       fi
    od;
out_x:
    atomic { req_alive[R_X] = 0; x_in_call = 0 };
    /* X goes on serving its own ring (px__run_batch, then px__park with the
     * ring re-check only) until Q's post ran; then it is destroyed, after
     * its gate drain (Q has left: q_done). */
    do
    :: x_head == 1 -> break
    :: else ->
       ready = x_pub[x_head];
       if
       :: ready -> run_one_x()
       :: else ->
          x_state = PARKED;                          /* P1, P2 on X */
          ready = x_pub[x_head];                     /* P3 on X */
          if
          :: ready -> x_state = RUNNING
          :: else -> futex_wait(W_XSTATE, x_state, PARKED); x_state = RUNNING
          fi
       fi
    od;
    (q_done);                                        /* px__gate_drain of X */
    assert(x_posts_ran == 1);
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
    byte s, d;
    bit woke, ok;
    (published_to_e == 2);                           /* px__gate_drain */
    atomic { stop_req = 1; e_notifying++ }          /* seq_cst store */
    notify_e();
    call_wait_plain(R_STOP, W_DONE_STOP);
    e_alive = 0;                                     /* px__executor_free */
    finished = 1
}

init
{
    atomic {
        req_alive[R_STOP] = 1; req_alive[R_C] = 1; req_alive[R_X] = 1;
        waiter[R_X] = 1;
        run Executor();
        run Caller();
        run XCaller();
        run XPoster();
        run Destroyer()
    }
}

#ifdef LIVE
ltl done { <> (finished && !x_alive && !req_alive[R_C]) }
#endif
