-- A draft may be cancelled before it has a window: the window is needed to
-- submit a change, not to drop it. 0001 required a window of every change
-- that had left draft, so cancelling a draft without one failed its CHECK.
ALTER TABLE changes DROP CONSTRAINT changes_check1;
ALTER TABLE changes ADD CONSTRAINT changes_window_once_submitted
    CHECK (state IN ('draft', 'cancelled') OR win IS NOT NULL);
