// Files embedded with `import x from '…' with { type: 'file' }`: the import is the file's path
// (inside the compiled binary, a /$bunfs path).
declare module '*.js' {
  const path: string
  export default path
}
