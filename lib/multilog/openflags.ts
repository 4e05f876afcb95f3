// The open(2) flags of the C multilog's file opens: all non-blocking, so a
// FIFO without a reader fails at once (ENXIO) instead of hanging multilog.
import fs from 'node:fs';

const { O_RDONLY, O_WRONLY, O_NONBLOCK, O_APPEND, O_CREAT, O_TRUNC } = fs.constants;

export const OPEN_READ = O_RDONLY | O_NONBLOCK;
export const OPEN_WRITE = O_WRONLY | O_NONBLOCK;
export const OPEN_APPEND = O_WRONLY | O_NONBLOCK | O_APPEND | O_CREAT;
export const OPEN_TRUNC = O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT;
