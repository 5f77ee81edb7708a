// Pins of the shipped scripts as last read by a person.

/**
 * SHA-256 of the shipped scripts as a reviewer last read them. The simulated hosts run the
 * scripts themselves (through the PowerShell interpreter), so no test's outcome depends on this
 * pin: it only prompts a re-read. A change to a script fails one test ("... was last reviewed at
 * this version") until someone reads the diff against the Windows documentation, the Pester
 * tests (test/windows/) and docs/windows-model.md, then updates the pin.
 */
export const REVIEWED_SCRIPTS: Record<string, string> = {
  "bootstrap.ps1": "9ea3a7caa0108df1b304aa68dcf9deec71a09838f1705b954af3ecdf5819205e",
  "smb-signing.ps1": "fda8e76d43a9a542724c05b0eb438ba6346daa82532c671e77ead40d58f8cf95",
};

