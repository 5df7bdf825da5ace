/*
 * `pinexec demo` (demo.c: the application, its logic worker and the frame
 * function; demo_draw.c: the OpenGL drawing, on the render executor).
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

/* Draw one frame of the scene at time t (seconds) into a width x height
 * framebuffer. Render executor only (the context is current there). */
void demo_draw(const demo_scene_t *s, double t, int width, int height);

#endif
