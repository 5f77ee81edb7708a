// The owner a host's record names (provider/domain/owner.ts): random ids, and labels that stay
// bounded whatever the resource's name.
import assert from "node:assert/strict";
import { newOwnerId, OWNER_LABEL_MAX, ownerLabel } from "../../provider/domain/owner";

describe("the owner a host's record names", () => {
  it("is a new random UUID for every resource", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newOwnerId()));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("is labelled by the URN, else the resource's name, kept whole up to 1024 characters, non-ASCII included", () => {
    assert.equal(ownerLabel("urn:pulumi:dev::p::t::fs-Zürich", "p/dev/fs-Zürich"), "urn:pulumi:dev::p::t::fs-Zürich");
    assert.equal(ownerLabel(undefined, "p/dev/fs-Zürich"), "p/dev/fs-Zürich");
    const exact = "u".repeat(OWNER_LABEL_MAX);
    assert.equal(ownerLabel(exact, "x"), exact);
  });

  it("cuts a longer label to 1024 characters, marked, without splitting a character outside the BMP", () => {
    const long = `urn:pulumi:dev::p::t::${"n".repeat(5000)}`;
    const cut = ownerLabel(long, "x");
    assert.equal(cut.length, OWNER_LABEL_MAX);
    assert.ok(cut.endsWith("..."));
    assert.ok(long.startsWith(cut.slice(0, -3)));
    // A surrogate pair straddling the cut is dropped whole, never halved.
    for (let at = OWNER_LABEL_MAX - 6; at < OWNER_LABEL_MAX; at++) {
      const label = "a".repeat(at) + "😀".repeat(800);
      const out = ownerLabel(label, "x");
      assert.ok(out.length <= OWNER_LABEL_MAX);
      assert.equal(Buffer.from(out, "utf8").toString("utf8"), out, `a lone surrogate at ${at}`);
      assert.doesNotMatch(out, /[\ud800-\udbff](?![\udc00-\udfff])/);
    }
  });
});
