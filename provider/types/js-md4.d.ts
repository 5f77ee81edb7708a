// js-md4 ships no types; only the pure-JS entry point used by ntlm.ts is declared.
declare module "js-md4" {
  const md4: { arrayBuffer(data: Uint8Array): ArrayBuffer };
  export default md4;
}
