// Pins of the shipped scripts the simulated host was reviewed against.

/**
 * SHA-256 of the shipped scripts this model was reviewed against. A change to a script fails
 * every simulated run until someone re-reads the script, updates the model, and then this pin.
 */
export const REVIEWED_SCRIPTS: Record<string, string> = {
  "bootstrap.ps1": "6cafbbb32e5bd40732d4a85bc7e1c25f008899c179abaaa9c135468ac98cef79",
  "smb-signing.ps1": "f6935189725be1443b3c36deb712e67a017f33ed5411aa45cec754c3b5f232d0",
};

