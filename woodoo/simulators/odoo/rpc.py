"""Odoo's HTTP front: /jsonrpc and the /web routes, sessions and authentication, the common, db and
object services, and model methods called the way odoo.api.call_kw calls them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from woodoo.simulators.odoo.automation import WRITABLE_MODELS
from woodoo.simulators.odoo.configuration import sync_modules
from woodoo.simulators.odoo.errors import OdooFault, type_error
from woodoo.simulators.odoo.query import Query, fields_get
from woodoo.simulators.odoo.records import ADMIN_UID
from woodoo.simulators.odoo.sales import SALE_METHODS
from woodoo.simulators.odoo.store import as_ids

if TYPE_CHECKING:
    from woodoo.simulators.odoo.simulator import OdooSimulator

# Positional parameter names of the model methods the simulator answers (Odoo 17/18 signatures).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("ids", "fields", "load"),
    "fields_get": ("allfields", "attributes"),
    "name_search": ("name", "domain", "operator", "limit"),
    "name_get": ("ids",),
    "context_get": (),
    # create is @api.model_create_multi (a dict or a list of dicts); write/unlink take the ids first.
    "create": ("vals_list",),
    "write": ("ids", "vals"),
    "unlink": ("ids",),
    "action_confirm": ("ids",),
    "action_cancel": ("ids",),
}
# Keyword-only parameters: search_read(domain, fields, offset, limit, order, **read_kwargs) hands
# read's `load` on (Odoo 17/18 models.py); load=None reads many2one fields as bare ids, without
# computing a display name per row.
KEYWORD_ONLY: dict[str, tuple[str, ...]] = {"search_read": ("load",)}
REQUIRED = {"search": 1, "search_count": 1, "read": 1, "name_get": 1, "create": 1, "write": 2,
            "unlink": 1, "action_confirm": 1, "action_cancel": 1}


@dataclass(frozen=True)
class RpcCall:
    """One RPC the simulator received: service and method, and for model calls which model/method."""

    service: str
    method: str
    model: str | None = None
    model_method: str | None = None
    context: dict[str, Any] | None = None
    # What was sent (execute_kw): the positional args and the keyword args, for tests to check
    # how much a client sends, not only how often.
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None


class JsonRpc:
    """The HTTP front of one OdooSimulator: a WSGI app."""

    def __init__(self, sim: OdooSimulator) -> None:
        self.sim = sim
        self.store = sim.store
        self._sessions: dict[str, int | None] = {}

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()  # always consumed, so keep-alive connections stay in sync
        path = request.path
        routes = ("/jsonrpc", "/web/webclient/version_info", "/web/database/list",
                  "/web/session/authenticate")
        if path not in routes and not (path == "/web/dataset/call_kw"
                                       or path.startswith("/web/dataset/call_kw/")):
            return Response("<h1>Not Found</h1>", status=404,
                            content_type="text/html; charset=utf-8")(environ, start_response)
        if request.method != "POST":
            return Response("Method Not Allowed", status=405,
                            content_type="text/plain")(environ, start_response)
        try:
            envelope = json.loads(body or b"null")
        except ValueError:
            return Response("Invalid JSON data", status=400,
                            content_type="text/plain")(environ, start_response)
        if not isinstance(envelope, dict):
            return Response("Invalid JSON-RPC data", status=400,
                            content_type="text/plain")(environ, start_response)
        request_id = envelope.get("id")
        params = envelope.get("params") or {}
        cookies: list[str] = []
        session_id = request.cookies.get("session_id")
        if path.startswith("/web/") and session_id not in self._sessions:
            # Odoo hands every /web caller a (not yet authenticated) session cookie.
            session_id = self._new_session(None)
            cookies.append(self._cookie(session_id))
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        try:
            if not isinstance(params, dict):
                raise type_error("params must be an object")
            result = self._route(path, params, session_id, cookies)
            if result is not None:  # odoo.http: no `result` key when the method returned None
                payload["result"] = result
        except OdooFault as fault:
            payload["error"] = fault.to_json(self.store.version)
        except Exception as error:
            # Odoo reports any exception raised while serving as an error object, named by
            # its class (e.g. the recorded builtins.ValueError for an unknown domain field).
            name = f"{type(error).__module__}.{type(error).__qualname__}"
            payload["error"] = OdooFault(name, str(error)).to_json(self.store.version)
        response = Response(json.dumps(payload), status=200,
                            content_type="application/json; charset=utf-8")
        for cookie in cookies:
            response.headers.add("Set-Cookie", cookie)
        return response(environ, start_response)

    def _new_session(self, uid: int | None) -> str:
        session_id = secrets.token_urlsafe(63)[:84]
        with self.store.lock:
            self._sessions[session_id] = uid
        return session_id

    def _cookie(self, session_id: str) -> str:
        expires = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
        return (f"session_id={session_id}; Expires={expires}; Max-Age=604800; HttpOnly; "
                f"Path=/")

    def _route(self, path: str, params: dict[str, Any], session_id: str | None,
               cookies: list[str]) -> Any:
        if path == "/web/webclient/version_info":
            self.sim.log_call(RpcCall("web", "version_info"))
            return self.sim.version_info()
        if path == "/web/database/list":
            self.sim.log_call(RpcCall("db", "list"))
            return [self.sim.database]
        if path == "/web/session/authenticate":
            self.sim.log_call(RpcCall("web", "session.authenticate"))
            return self._session_authenticate(params, cookies)
        if path.startswith("/web/dataset/call_kw"):
            model, method = params.get("model"), params.get("method")
            kwargs = params.get("kwargs") or {}
            self.sim.log_call(RpcCall("web", "call_kw", model, method,
                                      kwargs.get("context") if isinstance(kwargs, dict) else None))
            uid = self._sessions.get(session_id or "")
            if uid is None:
                # odoo.http: an auth='user' route without a logged-in session
                raise OdooFault("odoo.http.SessionExpiredException", "Session expired",
                                code=100, title="Odoo Session Expired")
            return self._call_model(uid, model, method, params.get("args") or [], kwargs)
        return self._dispatch_rpc(params.get("service"), params.get("method"),
                                  params.get("args") or [])

    def _session_authenticate(self, params: dict[str, Any], cookies: list[str]) -> Any:
        self._check_db(params.get("db"))
        # Interactive login: API keys are refused here, they are for RPC only (recorded README).
        uid = self._authenticate(params.get("login"), params.get("password"),
                                 allow_api_key=False)
        if uid is None:
            raise OdooFault("odoo.exceptions.AccessDenied", "Access Denied")
        session_id = self._new_session(uid)
        cookies.clear()
        cookies.append(self._cookie(session_id))
        user = self.store.tables["res.users"][uid]
        return {
            "uid": uid, "is_system": True, "is_admin": True, "is_public": False,
            "is_internal_user": True,
            "user_context": {"lang": "en_US", "tz": False, "uid": uid}, "db": self.sim.database,
            "server_version": self.store.version,
            "server_version_info": self.sim.version_info()["server_version_info"],
            "name": user.name, "username": user.login, "partner_display_name": user.name,
            "partner_id": user.partner_id, "web.base.url": self.sim.url,
        }

    def _dispatch_rpc(self, service: Any, method: Any, args: list[Any]) -> Any:
        if not isinstance(args, list):
            raise type_error("args must be a list")
        if service == "common":
            self.sim.log_call(RpcCall("common", str(method)))
            if method == "version":
                return self.sim.version_info()
            if method in ("login", "authenticate"):
                if len(args) < 3:
                    raise type_error(f"exp_{method}() missing required positional arguments")
                self._check_db(args[0])
                # A wrong password is `false`, not an error (recorded 02d).
                return self._authenticate(args[1], args[2]) or False
            raise OdooFault("builtins.KeyError", f"'Method not found: {method}'")
        if service == "db":
            self.sim.log_call(RpcCall("db", str(method)))
            if method == "list":
                return [self.sim.database]
            if method == "server_version":
                return self.store.version
            raise OdooFault("builtins.KeyError", f"'Method not found: {method}'")
        if service == "object":
            if method not in ("execute", "execute_kw"):
                self.sim.log_call(RpcCall("object", str(method)))
                raise OdooFault("builtins.NameError", f"Method not available {method}")
            if len(args) < 5:
                self.sim.log_call(RpcCall("object", method))
                raise type_error(f"{method}() needs db, uid, password, model and method")
            db, uid, secret, model, model_method = args[:5]
            if method == "execute_kw":
                call_args = args[5] if len(args) > 5 else []
                call_kwargs = args[6] if len(args) > 6 else {}
            else:
                call_args, call_kwargs = list(args[5:]), {}
            context = call_kwargs.get("context") if isinstance(call_kwargs, dict) else None
            self.sim.log_call(RpcCall("object", method, model, model_method, context,
                                      call_args if isinstance(call_args, list) else None,
                                      call_kwargs if isinstance(call_kwargs, dict) else None))
            uid = self._check(db, uid, secret)
            if not isinstance(call_args, list) or not isinstance(call_kwargs, dict):
                raise type_error("execute_kw takes a list of args and a dict of kwargs")
            return self._call_model(uid, model, model_method, call_args, call_kwargs)
        self.sim.log_call(RpcCall(str(service), str(method)))
        raise OdooFault("builtins.Exception", f"Unknown service {service!r}")

    def _check_db(self, db: Any) -> None:
        if db != self.sim.database:
            # What psycopg2 reports for a database that does not exist; not recorded.
            raise OdooFault("psycopg2.OperationalError",
                            f'connection to server failed: FATAL:  database "{db}" does not exist')

    def _authenticate(self, login: Any, secret: Any, *, allow_api_key: bool = True) -> int | None:
        if login != self.sim.login or not isinstance(secret, str):
            return None
        if secret == self.sim.password or (allow_api_key and self.sim.api_key and secret == self.sim.api_key):
            return ADMIN_UID
        return None

    def _check(self, db: Any, uid: Any, secret: Any) -> int:
        """odoo.service.security.check: AccessDenied unless uid and password/API key match."""
        self._check_db(db)
        try:
            uid = int(uid)
        except (TypeError, ValueError):
            raise OdooFault("builtins.ValueError",
                            f"invalid literal for int() with base 10: {uid!r}") from None
        if uid != ADMIN_UID or self._authenticate(self.sim.login, secret) is None:
            raise OdooFault("odoo.exceptions.AccessDenied", "Access Denied")
        return uid

    def _call_model(self, uid: int, model: str, method: str, args: list[Any],
                    kwargs: dict[str, Any]) -> Any:
        """Run one model method like odoo.service.model.execute_kw + odoo.api.call_kw."""
        if not isinstance(method, str) or method.startswith("_"):
            # odoo.models.check_method_name, recorded (08c)
            raise OdooFault("odoo.exceptions.AccessError",
                            f"Private methods (such as {method}) cannot be called remotely.")
        if model == "ir.config_parameter":
            return self._parameter(method, list(args or []), dict(kwargs or {}))
        if model not in self.store.columns:
            raise OdooFault("odoo.exceptions.UserError", f"Object {model} doesn't exist")
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        if not isinstance(context, dict):
            raise type_error("context must be a dictionary")
        known = ("search", "search_read", "search_count", "read", "fields_get", "name_search")
        available = set(known) | ({"name_get"} if self.store.major < 17 else set())
        if model == "res.users":
            available.add("context_get")
        if model in WRITABLE_MODELS:
            available |= {"create", "write", "unlink"}
        sale_methods = SALE_METHODS.get(model, frozenset())
        available |= sale_methods
        if method not in available:
            # odoo.api.call_kw (17/18); not recorded
            raise OdooFault("builtins.AttributeError",
                            f"The method '{method}' does not exist on the model '{model}'")
        names = SIGNATURES[method]
        if method == "search" and self.store.major < 17:
            names = (*names, "count")  # Odoo 16's search(args, offset, limit, order, count)
        bound = self._bind(method, names, list(args or []), kwargs)
        with self.store.lock:
            query = Query(self.store, context)
            if model == "ir.module.module":
                sync_modules(self.store, self.sim.installed_modules)
            if method in sale_methods:
                return self.sim.sales.call(query, model, method, bound)
            if method in ("create", "write", "unlink"):
                return self.sim.automation.call(model, method, bound)
            if method == "context_get":
                return {"lang": "en_US", "tz": False, "uid": uid}
            if method == "search":
                ids = query.search(model, bound["domain"], bound.get("offset", 0),
                                   bound.get("limit"), bound.get("order"))
                return len(ids) if bound.get("count") else ids
            if method == "search_count":
                count = len(query.search(model, bound["domain"]))
                limit = bound.get("limit")
                return min(count, limit) if limit else count
            if method == "search_read":
                ids = query.search(model, bound.get("domain") or [],
                                   bound.get("offset", 0), bound.get("limit"),
                                   bound.get("order"))
                return query.read(model, ids, bound.get("fields"),
                                  bound.get("load", "_classic_read"))
            if method == "read":
                return query.read(model, as_ids(bound["ids"]), bound.get("fields"),
                                  bound.get("load", "_classic_read"))
            if method == "fields_get":
                return fields_get(self.store.columns[model], bound.get("allfields"), bound.get("attributes"))
            if method == "name_get":
                rows = query.read(model, as_ids(bound["ids"]), ["display_name"])
                return [[row["id"], row["display_name"]] for row in rows]
            # name_search
            name = bound.get("name") or ""
            operator = bound.get("operator") or "ilike"
            matching = query.name_search_ids(model, operator, name) if name else None
            ids = query.search(model, bound.get("domain") or [])
            ids = [i for i in ids if matching is None or i in matching]
            limit = bound.get("limit", 100)
            rows = query.read(model, ids[:limit] if limit else ids, ["display_name"])
            return [[row["id"], row["display_name"]] for row in rows]

    def _parameter(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """ir.config_parameter's get_param(key, default=False) and set_param(key, value), as
        odoo/addons/base/models/ir_config_parameter.py (17/18) has them: values are stored as
        strings, set_param answers the old value (False when there was none) and False or None
        deletes (recorded: tests/fixtures/odoo18/setup/). Only these two methods are simulated."""
        if method not in ("get_param", "set_param"):
            raise OdooFault("builtins.AttributeError", f"The method '{method}' does not exist on "
                            f"the model 'ir.config_parameter' (not simulated)")
        names = ("key", "default") if method == "get_param" else ("key", "value")
        bound = self._bind(method, names, args, kwargs)
        if "key" not in bound or (method == "set_param" and "value" not in bound):
            raise type_error(f"IrConfigParameter.{method}() missing 1 required positional "
                             f"argument")
        key = bound["key"]
        if not isinstance(key, str):
            raise type_error(f"a system parameter's key is a string, not {type(key).__name__}")
        parameters = self.sim.parameters
        with self.store.lock:
            if method == "get_param":
                return parameters.get(key, bound.get("default", False))
            old = parameters.get(key, False)
            value = bound["value"]
            if value is False or value is None:
                parameters.pop(key, None)
            else:
                parameters[key] = str(value)
            return old

    @staticmethod
    def _bind(method: str, names: tuple[str, ...], args: list[Any],
              kwargs: dict[str, Any]) -> dict[str, Any]:
        """Positional and keyword arguments by parameter name, with Python's TypeErrors."""
        if len(args) > len(names):
            raise type_error(f"BaseModel.{method}() takes {len(names) + 1} positional arguments "
                             f"but {len(args) + 1} were given")
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names and key not in KEYWORD_ONLY.get(method, ()):
                raise type_error(f"BaseModel.{method}() got an unexpected keyword argument "
                                 f"'{key}'")
            if key in bound:
                raise type_error(f"BaseModel.{method}() got multiple values for argument '{key}'")
            bound[key] = value
        required = names[:REQUIRED.get(method, 0)]
        missing = [name for name in required if name not in bound]
        if missing:
            raise type_error(f"BaseModel.{method}() missing 1 required positional argument: "
                             f"'{missing[0]}'")
        return bound
