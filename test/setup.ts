import { setDefaultTimeout } from 'bun:test'

// Real processes, PTYs, git repos and the compiled binary: give a loaded 2-core machine room.
setDefaultTimeout(30_000)
