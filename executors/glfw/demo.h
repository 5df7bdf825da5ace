/*
 * `pinexec demo` (demo.c: the application, its logic worker and the frame
 * function; demo_draw.c: the OpenGL drawing, on the render executor;
 * demo_place.c: which CPUs the threads run on by default).
 */
#ifndef PX_GLFW_DEMO_H
#define PX_GLFW_DEMO_H

#include <stdbool.h>

#define DEMO_PARTICLES 120
#define DEMO_LINES 6

/* One particle, in window-relative coordinates (0..1, y up). */
typedef struct demo_particle {
    float x, y, hue, size;
} demo_particle_t;

/* What the logic worker hands to the renderer each tick. */
typedef struct demo_scene {
    demo_particle_t p[DEMO_PARTICLES];
    double cursor_x, cursor_y; /* pixels from the top left, as GLFW reports them */
    bool cursor_in;
    char lines[DEMO_LINES][96]; /* the overlay: live figures */
} demo_scene_t;

/* Where the threads run when --render-cpus is not given (demo_place.c). */
typedef struct demo_place {
    char render[64];  /* the render executor's CPUs (OS indexes, "3"), a placement spec */
    char others[256]; /* the main thread's and the logic worker's; "" when they share */
    bool own;         /* the render executor has CPUs no other demo thread runs on */
    char why[400];    /* one line for stdout: what was chosen */
} demo_place_t;

/* Choose a core of its own for the render executor (not the main thread's;
 * a PU on a one-core machine) from the hwloc topology, and bind the calling
 * thread to the rest (p->others). Main thread, before px_glfw_main. 0, or a
 * negative errno (hwloc could not load the topology or bind; *p then says
 * nothing was chosen: render[0] == '\0'). */
int demo_place_choose(demo_place_t *p);

/* Draw one frame of the scene at time t (seconds) into a width x height
 * framebuffer. Render executor only (the context is current there). */
void demo_draw(const demo_scene_t *s, double t, int width, int height);

#endif
