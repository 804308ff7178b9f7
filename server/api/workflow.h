/*
 * The workflow's part in editing: an edit of a submitted change voids its
 * approvals (they were for the old version), re-assesses it and returns it
 * to awaiting approval (standard and low risk: approved).
 */
#ifndef CABINET_WORKFLOW_H
#define CABINET_WORKFLOW_H

#include <stdint.h>

#include "http/http.h"

/* Inside the caller's transaction, after the edit that left the change at
 * row revision rev: re-assess a submitted change and move it back. */
enum outcome workflow_reassess_after_edit(struct http_ctx *ctx, int64_t id, int64_t rev);

#endif
