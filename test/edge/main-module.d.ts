// What `wrangler types` would declare: the main module, so that `exports.default` from
// cloudflare:workers is typed as the edge Worker's loopback.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../../edge/index.ts");
  }
}
