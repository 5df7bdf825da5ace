/*
 * The wake hook of a driven executor, modelled for SPIN (docs/model/README.md,
 * docs/design.md "Wake hooks and the readiness fd").
 *
 * The promise (include/pinexec.h, px_thread_set_wake): a producer calls the
 * hook only while the owner is outside px_drain/px_serve and not waiting on
 * another executor; once px_thread_set_wake returns, the old hook is not
 * running and is never called again (its ctx may be freed).
 *
 * Actors:
 *   O  the owner. Each round it either waits inside a call to another
 *      executor (px__enter_wait ... px__leave_wait, in_wait = 1 in between),
 *      or drains (enter_serve re-arms, takes what is queued, leave), or
 *      replaces its hook (px_thread_set_wake) and frees the old ctx.
 *   P  producers: publish one item, load state (px__notify's seq_cst load);
 *      if AWAY: px__notify_away.
 *
 * px__notify_away (src/wait.c): announce (notifying++, seq_cst), re-check
 * state (seq_cst), claim the arm (exchange), read the hook, call it, retire
 * (notifying--). px__enter_wait: state = RUNNING (seq_cst), then wait until
 * notifying == 0. px_thread_set_wake: swap the hook, fence, wait until
 * notifying == 0. Dekker pairs: (notifying++ ; load state) against
 * (state = RUNNING ; load notifying), and (notifying++ ; load hook) against
 * (store hook ; load notifying). SPIN interleaves sequentially consistently,
 * which is exact for seq_cst pairs like these.
 *
 * With -DOLD the model is the code before the fix (no announce, no re-check,
 * no wait): SPIN then finds the interleaving of issue 13 (a producer reads
 * AWAY, is preempted, the owner enters a wait, the producer claims the arm
 * and calls the hook inside the owner's wait) and the one of issue 15.2 (a
 * producer read the old hook, the owner replaced and freed it, the producer
 * calls it). -DNO_SETWAKE leaves the hook alone (the first race alone).
 */

#define AWAY 0
#define RUNNING 1

#ifndef NPROD
#define NPROD 2
#endif
#ifndef ROUNDS
#define ROUNDS 3
#endif

byte state = AWAY;
bit armed = 1;
byte notifying = 0;
byte queued = 0;          /* published, not yet taken */
bit in_wait = 0;          /* the owner is inside px__enter_wait .. leave */
byte hook = 1;            /* which hook is installed: 1 or 2 */
bit ctx_alive[3] = 1;     /* ctx_alive[h]: hook h's ctx is valid */
byte hook_calls = 0;

inline notify_away() {
    byte h;
#ifndef OLD
    atomic { notifying++ }                          /* seq_cst fetch_add */
    if
    :: state == AWAY ->                             /* seq_cst re-check */
#endif
       if
       :: atomic { armed == 1 -> armed = 0 } ->     /* seq_cst exchange */
          h = hook;                                  /* seqlock read */
          /* the hook runs: never inside the owner's wait, never on a freed ctx */
          assert(!in_wait);
          assert(ctx_alive[h]);
          hook_calls++
       :: else -> skip
       fi
#ifndef OLD
    :: else -> skip
    fi;
    notifying--                                      /* release fetch_sub */
#endif
}

inline quiesce() {   /* wait for producers inside notify_away */
#ifndef OLD
    notifying == 0
#else
    skip
#endif
}

active [NPROD] proctype P() {
    byte s;
    queued++;                   /* px__ring_publish, seq_cst */
    s = state;                  /* px__notify: seq_cst load */
    if
    :: s == AWAY -> notify_away()
    :: else -> skip
    fi
}

active proctype O() {
    byte r = 0;
    byte old;
    do
    :: r < ROUNDS ->
       if
       :: /* a px_call to another executor: wait, serving nothing here */
          state = RUNNING;      /* px__enter_wait: seq_cst store */
          quiesce();
          in_wait = 1;
          in_wait = 0;
          state = AWAY;         /* px__leave_wait: seq_cst store + fence */
          if
          :: queued > 0 -> notify_away()   /* on our own behalf */
          :: else -> skip
          fi
       :: /* px_drain */
          state = RUNNING;
          quiesce();
          armed = 1;            /* enter_serve re-arms */
          queued = 0;
          state = AWAY;
          if
          :: queued > 0 -> notify_away()
          :: else -> skip
          fi
#ifndef NO_SETWAKE
       :: /* px_thread_set_wake(new hook), then free the old ctx */
          old = hook;
          ctx_alive[3 - old] = 1;
          hook = 3 - old;
          quiesce();            /* fence; wait for producers in flight */
          ctx_alive[old] = 0
#endif
       fi;
       r++
    :: else -> break
    od
}
