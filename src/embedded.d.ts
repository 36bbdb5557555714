// Files imported `with { type: "file" }` arrive as a path: on disk under `bun run`, inside the
// binary's embedded file system when compiled.
declare module "*.wasm" {
  const path: string;
  export default path;
}
declare module "*.data" {
  const path: string;
  export default path;
}
declare module "*.js" {
  const path: string;
  export default path;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
declare module "*.png" {
  const path: string;
  export default path;
}
declare module "*.woff2" {
  const path: string;
  export default path;
}

declare module "*.tar.gz" {
  const path: string;
  export default path;
}
declare module "*.zst" {
  const path: string;
  export default path;
}
