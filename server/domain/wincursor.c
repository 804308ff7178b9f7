#include "domain/wincursor.h"

#include <string.h>

#define WINCURSOR_RAW 17

static const char wincursor_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
wincursor_put(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(u & 0xffu);
        u >>= 8;
    }
}

static int64_t
wincursor_get(const unsigned char *p)
{
    uint64_t u = 0;
    int i;

    for (i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

void
wincursor_encode(char tag, int64_t start_us, int64_t id, char out[WINCURSOR_LEN])
{
    unsigned char raw[WINCURSOR_RAW];
    uint32_t acc = 0;
    int bits = 0, n = 0;
    size_t i;

    raw[0] = (unsigned char)tag;
    wincursor_put(raw + 1, start_us);
    wincursor_put(raw + 9, id);
    for (i = 0; i < sizeof raw; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = wincursor_alphabet[(acc >> bits) & 0x3fu];
        }
    }
    if (bits > 0)
        out[n++] = wincursor_alphabet[(acc << (6 - bits)) & 0x3fu];
    out[n] = '\0';
}

bool
wincursor_decode(const char *text, char tag, int64_t *start_us, int64_t *id)
{
    unsigned char raw[WINCURSOR_RAW];
    uint32_t acc = 0;
    int bits = 0, n = 0;
    size_t i;

    if (text == NULL || strlen(text) != WINCURSOR_LEN - 1)
        return false;
    for (i = 0; text[i] != '\0'; i++) {
        const char *at = text[i] ? strchr(wincursor_alphabet, text[i]) : NULL;

        if (at == NULL)
            return false;
        acc = (acc << 6) | (uint32_t)(at - wincursor_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (unsigned char)((acc >> bits) & 0xffu);
        }
    }
    /* 23 characters carry 138 bits: the last 2 are zero in a cursor made here */
    if (n != WINCURSOR_RAW || (acc & ((1u << bits) - 1u)) != 0 || raw[0] != (unsigned char)tag)
        return false;
    *start_us = wincursor_get(raw + 1);
    *id = wincursor_get(raw + 9);
    return *id >= 1;
}
