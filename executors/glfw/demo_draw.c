/*
 * The demo's OpenGL drawing (legacy OpenGL 2.1 immediate mode, which Mesa's
 * llvmpipe runs under Xvfb): a gradient, a rotating pinwheel, orbiting
 * particles placed by the logic worker, a wave, the cursor, and an overlay of
 * live figures in a 5x7 bitmap font. Runs on the render executor only.
 */
#include <math.h>
#include <string.h>

#include <GLFW/glfw3.h>

#include "demo.h"

#define PI 3.14159265358979323846

/* 5x7 glyphs, one byte per row (bit 4 = leftmost column), for ' ' .. 'Z'. */
static const unsigned char font[][7] = {
    [' ' - ' '] = {0},
    ['%' - ' '] = {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
    ['(' - ' '] = {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},
    [')' - ' '] = {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
    ['+' - ' '] = {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},
    [',' - ' '] = {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},
    ['-' - ' '] = {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},
    ['.' - ' '] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
    ['/' - ' '] = {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
    ['0' - ' '] = {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
    ['1' - ' '] = {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    ['2' - ' '] = {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
    ['3' - ' '] = {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    ['4' - ' '] = {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
    ['5' - ' '] = {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    ['6' - ' '] = {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
    ['7' - ' '] = {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    ['8' - ' '] = {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
    ['9' - ' '] = {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
    [':' - ' '] = {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
    ['=' - ' '] = {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},
    ['A' - ' '] = {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
    ['B' - ' '] = {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
    ['C' - ' '] = {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},
    ['D' - ' '] = {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
    ['E' - ' '] = {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},
    ['F' - ' '] = {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
    ['G' - ' '] = {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},
    ['H' - ' '] = {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
    ['I' - ' '] = {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
    ['J' - ' '] = {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
    ['K' - ' '] = {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
    ['L' - ' '] = {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
    ['M' - ' '] = {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},
    ['N' - ' '] = {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
    ['O' - ' '] = {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
    ['P' - ' '] = {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
    ['Q' - ' '] = {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},
    ['R' - ' '] = {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
    ['S' - ' '] = {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},
    ['T' - ' '] = {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
    ['U' - ' '] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
    ['V' - ' '] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
    ['W' - ' '] = {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},
    ['X' - ' '] = {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
    ['Y' - ' '] = {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},
    ['Z' - ' '] = {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
};

static void hsv(float h, float s, float v, float a)
{
    h = h - floorf(h);
    float r = fabsf(h * 6.0f - 3.0f) - 1.0f;
    float g = 2.0f - fabsf(h * 6.0f - 2.0f);
    float b = 2.0f - fabsf(h * 6.0f - 4.0f);
    r = r < 0 ? 0 : r > 1 ? 1 : r;
    g = g < 0 ? 0 : g > 1 ? 1 : g;
    b = b < 0 ? 0 : b > 1 ? 1 : b;
    glColor4f(v * (1 - s + s * r), v * (1 - s + s * g), v * (1 - s + s * b), a);
}

/* Text at (x, y) = top left, in pixels (y down), each font pixel scale px. */
static void text(const char *str, float x, float y, float scale)
{
    glBegin(GL_QUADS);
    for (; *str; str++, x += 6 * scale) {
        int c = *str;
        if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
        if (c < ' ' || c > 'Z') continue;
        const unsigned char *g = font[c - ' '];
        for (int row = 0; row < 7; row++)
            for (int col = 0; col < 5; col++) {
                if (!(g[row] & (0x10 >> col))) continue;
                float px = x + col * scale, py = y + row * scale;
                glVertex2f(px, py);
                glVertex2f(px + scale, py);
                glVertex2f(px + scale, py + scale);
                glVertex2f(px, py + scale);
            }
    }
    glEnd();
}

static void background(int width, int height, double t)
{
    float shift = (float)(0.05 * sin(t * 0.3));
    glBegin(GL_QUADS);
    glColor3f(0.05f, 0.06f + shift, 0.16f);
    glVertex2f(0, 0);
    glVertex2f((float)width, 0);
    glColor3f(0.20f + shift, 0.05f, 0.22f);
    glVertex2f((float)width, (float)height);
    glVertex2f(0, (float)height);
    glEnd();
}

static void pinwheel(float cx, float cy, float radius, double t)
{
    const int blades = 12;
    float spin = (float)(t * 0.9);
    glBegin(GL_TRIANGLES);
    for (int i = 0; i < blades; i++) {
        float a0 = spin + (float)(2 * PI * i / blades);
        float a1 = a0 + (float)(PI / blades) * 1.3f;
        float r = radius * (0.75f + 0.25f * sinf((float)t * 2.0f + i));
        hsv((float)i / blades + (float)t * 0.05f, 0.75f, 1.0f, 0.9f);
        glVertex2f(cx, cy);
        hsv((float)i / blades + (float)t * 0.05f + 0.1f, 0.9f, 0.6f, 0.9f);
        glVertex2f(cx + r * cosf(a0), cy + r * sinf(a0));
        glVertex2f(cx + r * cosf(a1), cy + r * sinf(a1));
    }
    glEnd();
    for (int ring = 1; ring <= 3; ring++) {
        hsv((float)t * 0.1f + ring * 0.2f, 0.5f, 1.0f, 0.35f);
        glBegin(GL_LINE_LOOP);
        for (int i = 0; i < 96; i++) {
            float a = (float)(2 * PI * i / 96);
            float r = radius * (1.05f + 0.22f * ring) + 6.0f * sinf(6 * a + (float)t * ring);
            glVertex2f(cx + r * cosf(a), cy + r * sinf(a));
        }
        glEnd();
    }
}

static void wave(int width, int height, double t)
{
    for (int layer = 0; layer < 3; layer++) {
        hsv(0.5f + layer * 0.12f + (float)t * 0.02f, 0.7f, 1.0f, 0.6f);
        glBegin(GL_LINE_STRIP);
        for (int x = 0; x <= width; x += 4) {
            float y = (float)height - 40.0f - layer * 14.0f +
                      18.0f * sinf(x * 0.015f + (float)t * (2.0f + layer)) *
                          cosf(x * 0.004f - (float)t * 0.7f);
            glVertex2f((float)x, y);
        }
        glEnd();
    }
}

void demo_draw(const demo_scene_t *s, double t, int width, int height)
{
    if (width <= 0 || height <= 0) return;
    glViewport(0, 0, width, height);
    glMatrixMode(GL_PROJECTION);
    glLoadIdentity();
    glOrtho(0, width, height, 0, -1, 1); /* pixels, y down like GLFW's cursor */
    glMatrixMode(GL_MODELVIEW);
    glLoadIdentity();
    glDisable(GL_DEPTH_TEST);
    glEnable(GL_BLEND);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    glLineWidth(2.0f);

    background(width, height, t);
    float cx = width * 0.62f, cy = height * 0.48f;
    float radius = (width < height ? width : height) * 0.22f;
    pinwheel(cx, cy, radius, t);
    wave(width, height, t);

    glBegin(GL_QUADS);
    for (int i = 0; i < DEMO_PARTICLES; i++) {
        const demo_particle_t *p = &s->p[i];
        float x = p->x * width, y = (1.0f - p->y) * height, h = p->size;
        hsv(p->hue, 0.8f, 1.0f, 0.85f);
        glVertex2f(x - h, y - h);
        glVertex2f(x + h, y - h);
        glVertex2f(x + h, y + h);
        glVertex2f(x - h, y + h);
    }
    glEnd();

    if (s->cursor_in) {
        float x = (float)s->cursor_x, y = (float)s->cursor_y;
        glColor4f(1, 1, 1, 0.8f);
        glBegin(GL_LINES);
        glVertex2f(x - 12, y);
        glVertex2f(x + 12, y);
        glVertex2f(x, y - 12);
        glVertex2f(x, y + 12);
        glEnd();
    }

    /* The overlay: a translucent panel with the live figures. */
    float scale = width >= 700 ? 2.0f : 1.0f;
    float line_h = 10 * scale, panel_w = 0;
    int nlines = 0;
    for (int i = 0; i < DEMO_LINES; i++) {
        if (s->lines[i][0] == '\0') continue;
        float w = (float)strlen(s->lines[i]) * 6 * scale;
        if (w > panel_w) panel_w = w;
        nlines = i + 1;
    }
    if (nlines) {
        glColor4f(0, 0, 0, 0.55f);
        glBegin(GL_QUADS);
        glVertex2f(8, 8);
        glVertex2f(8 + panel_w + 16, 8);
        glVertex2f(8 + panel_w + 16, 8 + nlines * line_h + 14);
        glVertex2f(8, 8 + nlines * line_h + 14);
        glEnd();
        for (int i = 0; i < nlines; i++) {
            if (i == 0) glColor4f(1.0f, 0.85f, 0.3f, 1);
            else glColor4f(0.85f, 0.95f, 1.0f, 1);
            text(s->lines[i], 16, 15 + i * line_h, scale);
        }
    }
}
