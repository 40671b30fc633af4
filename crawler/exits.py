"""Exit codes of every xxgk command, in one place (cron and systemd read them).

0 done; 1 partial (something failed and is recorded, the rest was done; retried next run); 2 fatal (nothing
was done: bad input, the archive cannot be opened or written, another crawl holds the lock); 75 another
check or run holds the archive's check lock (sysexits EX_TEMPFAIL: cron may simply try again next time).
"""

EXIT_OK, EXIT_PARTIAL, EXIT_FATAL = 0, 1, 2
EXIT_LOCKED = 75
