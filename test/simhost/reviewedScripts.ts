// Pins of the shipped scripts the simulated host was reviewed against.

/**
 * SHA-256 of the shipped scripts this model was reviewed against. A change to a script fails
 * every simulated run until someone re-reads the script, updates the model, and then this pin.
 */
export const REVIEWED_SCRIPTS: Record<string, string> = {
  "bootstrap.ps1": "9ea3a7caa0108df1b304aa68dcf9deec71a09838f1705b954af3ecdf5819205e",
  "smb-signing.ps1": "bea3b353ececf6a1ab4e7d9b03848fdaa21a255c01b9c5045ff70fd5a480a661",
};

