# A real GSSAPI peer for the Kerberos tests: MIT krb5 through Debian's python3-gssapi, one
# long-lived process holding many security contexts by id, driven by test/simhost/gssSidecar.ts
# with one JSON object per line on stdin and one reply per line on stdout. It is the acceptor the
# WinRM emulator delegates to and the independent initiator our client's tokens are judged by, so
# it calls MIT and nothing else: message protection only through the IOV calls with the buffer
# lists pyspnego's wrap_winrm/unwrap_winrm use (header | data | padding to wrap, header | data |
# empty data to unwrap), the layout WinRM frames. Test tooling only; never shipped.
#
# Request: {"seq": n, "op": "...", ...}. Reply: {"seq": n, "result": {...}} or
# {"seq": n, "error": {"major": int, "minor": int, "message": str, ...}} with MIT's own text.
# A failed request never ends the process; end of stdin does.
import base64
import json
import os
import re
import time
import sys
import traceback

import gssapi
import gssapi.raw as gr
from gssapi.raw import IOV, IOVBufferType

# MIT's GSS_C_INQ_SSPI_SESSION_KEY: the key the context protects messages with.
SSPI_SESSION_KEY = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2.5.5")
# The Kerberos 5 enctype OID prefix MIT appends the enctype number to in that reply.
ENCTYPE_OID_PREFIX = "1.2.840.113554.1.2.2.4."

DEFAULT_FLAGS = int(
    gssapi.RequirementFlag.mutual_authentication
    | gssapi.RequirementFlag.confidentiality
    | gssapi.RequirementFlag.integrity
    | gssapi.RequirementFlag.out_of_sequence_detection
)

contexts = {}  # id -> {"ctx": raw SecurityContext or None, "role": "accept" | "initiate", ...}


def b64(data):
    return None if data is None else base64.b64encode(bytes(data)).decode("ascii")


def unb64(text):
    return b"" if text is None else base64.b64decode(text, validate=True)


def bindings(app_data_b64):
    """Channel bindings with only application data, as WinRM over HTTPS sends them."""
    if app_data_b64 is None:
        return None
    return gr.ChannelBindings(application_data=unb64(app_data_b64))


def oid_text(oid):
    """An OID's dotted form; None when there is none yet (SPNEGO reports no mech mid-negotiation)."""
    try:
        return None if oid is None else oid.dotted_form
    except (IndexError, ValueError):
        return None


def entry(ctx_id, role=None):
    if ctx_id not in contexts:
        raise LookupError(f"no context {ctx_id!r}")
    e = contexts[ctx_id]
    if role is not None and e["role"] != role:
        raise LookupError(f"context {ctx_id!r} is an {e['role']} context")
    return e


def established(e):
    if e["ctx"] is None or not e["complete"]:
        raise LookupError("the context is not established")
    return e["ctx"]


def op_ping(req):
    return {"pid": os.getpid(), "python": sys.version.split()[0], "time": time.time()}


def op_accept(req):
    ctx_id = req["ctx"]
    e = contexts.get(ctx_id)
    if e is None:
        keytab = req.get("keytab") or DEFAULT_KEYTAB
        store = {"keytab": keytab} if keytab else None
        name = None
        if req.get("principal"):
            name = gssapi.Name(req["principal"], gssapi.NameType.kerberos_principal)
        creds = gssapi.Credentials(name=name, usage="accept", store=store) if store or name else None
        e = {"ctx": None, "role": "accept", "creds": creds, "complete": False, "cb": req.get("channelBindingAppDataB64")}
        contexts[ctx_id] = e
    elif e["role"] != "accept":
        raise LookupError(f"context {ctx_id!r} is an {e['role']} context")
    res = gr.accept_sec_context(
        unb64(req["tokenB64"]),
        acceptor_creds=e["creds"],
        context=e["ctx"],
        channel_bindings=bindings(req.get("channelBindingAppDataB64", e["cb"])),
    )
    e["ctx"] = res.context
    e["complete"] = not res.more_steps
    return {
        "tokenB64": b64(res.token) if res.token else None,
        "complete": e["complete"],
        "flags": int(res.flags),
        "initiator": gr.display_name(res.initiator_name).name.decode("utf-8") if res.initiator_name is not None else None,
        "mech": oid_text(res.mech),
        "lifetime": res.lifetime,
    }


def initiator_creds(req):
    principal = req.get("principal")
    name = gssapi.Name(principal, gssapi.NameType.kerberos_principal) if principal else None
    if req.get("password") is not None:
        if name is None:
            raise ValueError("a password needs a principal")
        return gr.acquire_cred_with_password(name, req["password"].encode("utf-8"), usage="initiate").creds
    store = {}
    if req.get("ccache"):
        store["ccache"] = req["ccache"]
    if req.get("clientKeytab"):
        store["client_keytab"] = req["clientKeytab"]
    if not store and name is None:
        return None  # the default credentials: KRB5CCNAME, then KRB5_CLIENT_KTNAME
    return gssapi.Credentials(name=name, usage="initiate", store=store or None)


def context_reply(e, res):
    e["ctx"] = res.context
    e["complete"] = not res.more_steps
    return {
        "tokenB64": b64(res.token) if res.token else None,
        "complete": e["complete"],
        "flags": int(res.flags),
        "mech": oid_text(res.mech),
        "lifetime": res.lifetime,
    }


def op_initiate(req):
    ctx_id = req["ctx"]
    if ctx_id in contexts:
        raise LookupError(f"context {ctx_id!r} exists")
    spn = req["targetSpn"]
    target = gssapi.Name(spn, gssapi.NameType.kerberos_principal if "/" in spn else gssapi.NameType.hostbased_service)
    mech = gssapi.MechType.kerberos if req.get("mech", "krb5") == "krb5" else gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
    e = {
        "ctx": None,
        "role": "initiate",
        "complete": False,
        "target": target,
        "creds": initiator_creds(req),
        "mech": mech,
        "flags": req.get("flags", DEFAULT_FLAGS),
        "cb": req.get("channelBindingAppDataB64"),
    }
    res = gr.init_sec_context(target, creds=e["creds"], mech=mech, flags=e["flags"], channel_bindings=bindings(e["cb"]))
    contexts[ctx_id] = e
    return context_reply(e, res)


def op_step(req):
    e = entry(req["ctx"], "initiate")
    res = gr.init_sec_context(
        e["target"],
        creds=e["creds"],
        context=e["ctx"],
        mech=e["mech"],
        flags=e["flags"],
        channel_bindings=bindings(e["cb"]),
        input_token=unb64(req["tokenB64"]),
    )
    return context_reply(e, res)


def op_wrapIov(req):
    ctx = established(entry(req["ctx"]))
    iov = IOV(
        (IOVBufferType.header, True, None),
        (IOVBufferType.data, False, unb64(req["dataB64"])),
        (IOVBufferType.padding, True, None),
        std_layout=False,
    )
    encrypted = gr.wrap_iov(ctx, iov, confidential=req.get("confidential", True))
    return {"headerB64": b64(iov[0].value), "dataB64": b64(iov[1].value), "paddingB64": b64(iov[2].value or b""), "encrypted": bool(encrypted)}


def op_unwrapIov(req):
    ctx = established(entry(req["ctx"]))
    iov = IOV(
        (IOVBufferType.header, False, unb64(req["headerB64"])),
        (IOVBufferType.data, False, unb64(req["dataB64"])),
        (IOVBufferType.data, False, b""),
        std_layout=False,
    )
    res = gr.unwrap_iov(ctx, iov)
    return {"dataB64": b64(iov[1].value), "encrypted": bool(res.encrypted), "qop": res.qop}


def op_wrap(req):
    ctx = established(entry(req["ctx"]))
    res = gr.wrap(ctx, unb64(req["dataB64"]), confidential=req.get("confidential", True))
    return {"tokenB64": b64(res.message), "encrypted": bool(res.encrypted)}


def op_unwrap(req):
    ctx = established(entry(req["ctx"]))
    res = gr.unwrap(ctx, unb64(req["tokenB64"]))
    return {"dataB64": b64(res.message), "encrypted": bool(res.encrypted), "qop": res.qop}


def op_sessionKey(req):
    ctx = established(entry(req["ctx"]))
    parts = gr.inquire_sec_context_by_oid(ctx, SSPI_SESSION_KEY)
    key = bytes(parts[0])
    oid = gssapi.OID(elements=bytes(parts[1])).dotted_form if len(parts) > 1 else None
    enctype = int(oid[len(ENCTYPE_OID_PREFIX):]) if oid and oid.startswith(ENCTYPE_OID_PREFIX) else None
    return {"keyB64": b64(key), "oid": oid, "enctype": enctype}


def op_lucid(req):
    """MIT's exported context: keys, sequence numbers. Destroys the context (MIT deletes it)."""
    e = entry(req["ctx"])
    ctx = established(e)
    lucid = gr.krb5_export_lucid_sec_context(ctx, 1)
    del contexts[req["ctx"]]
    cfx = lucid.cfx_kd
    return {
        "initiator": bool(lucid.is_initiator),
        "protocol": lucid.protocol,
        "sendSeq": lucid.send_seq,
        "recvSeq": lucid.recv_seq,
        "endtime": lucid.endtime,
        "ctxKeyType": cfx.ctx_key_type if cfx else None,
        "ctxKeyB64": b64(cfx.ctx_key) if cfx else None,
        "acceptorSubkeyType": cfx.acceptor_subkey_type if cfx else None,
        "acceptorSubkeyB64": b64(cfx.acceptor_subkey) if cfx and cfx.acceptor_subkey else None,
    }


def op_close(req):
    return {"closed": contexts.pop(req["ctx"], None) is not None}


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def handle(line):
    seq = None
    try:
        req = json.loads(line)
        seq = req.get("seq")
        op = OPS.get(req.get("op"))
        if op is None:
            raise LookupError(f"unknown op {req.get('op')!r}")
        return {"seq": seq, "result": op(req)}
    except gssapi.exceptions.GSSError as err:
        # str(err) is MIT's text as gss_display_status gave it when the call failed:
        # "Major (n): <major text>, Minor (m): <minor text>".
        text = str(err)
        found = re.match(r"Major \((\d+)\): (.*), Minor \((\d+)\): (.*)$", text, re.S)
        return {
            "seq": seq,
            "error": {
                "major": err.maj_code,
                "minor": err.min_code,
                "message": text,
                "majorMessage": found.group(2) if found else None,
                "minorMessage": found.group(4) if found else None,
                "kind": type(err).__name__,
                # MIT returns a KRB-ERROR token when an accept fails and the initiator asked for
                # mutual authentication: what the acceptor would send back.
                "tokenB64": b64(err.token) if getattr(err, "token", None) else None,
            },
        }
    except Exception as err:  # a malformed request: the reply says so and the process goes on
        return {"seq": seq, "error": {"major": 0, "minor": 0, "message": f"{type(err).__name__}: {err}", "kind": "request", "trace": traceback.format_exc(limit=3)}}


DEFAULT_KEYTAB = None


def main():
    global DEFAULT_KEYTAB
    DEFAULT_KEYTAB = os.environ.get("GSS_SIDECAR_KEYTAB") or None
    print(json.dumps({"seq": 0, "result": {"ready": True, "pid": os.getpid()}}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(handle(line)), flush=True)


if __name__ == "__main__":
    main()
