/*
 * The fields at fault in a request, for the `errors` list of a 422 problem.
 * Field names use dots for nesting and brackets for array items
 * (`window.end`, `services[1]`). A fixed capacity: errors past it are counted
 * but not kept. Pure; one per request.
 */
#ifndef CABINET_FIELDERR_H
#define CABINET_FIELDERR_H

#define FIELDERR_MAX 16

struct fielderr {
    int n;
    /* every fault reported, kept or not: a step that reported any grew it,
     * even when its field already had its message */
    int reported;
    struct {
        char field[96];
        char message[200];
    } e[FIELDERR_MAX];
};

/* Records that field is at fault; a field already at fault keeps its first
 * message, so that one reply names each field once. */
void fielderr_add(struct fielderr *fe, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True when the field already has an error (to report one per field). */
int fielderr_has(const struct fielderr *fe, const char *field);

#endif
