"""The TCLIService calls the connector makes, answered with Arrow results.

``ExecuteStatement`` answers with direct results (status, metadata, every row and the close in one
reply), so a statement costs one round trip; the other calls serve clients that poll or fetch.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from databricks.sql.thrift_api.TCLIService import TCLIService
from databricks.sql.thrift_api.TCLIService import ttypes as T

from .sqlengine import Result, SqlEngine, SqlError

OK = T.TStatus(statusCode=T.TStatusCode.SUCCESS_STATUS)
PROTOCOL = T.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8  # >= V8: native parameters

_TYPES: list[tuple[Callable[[pa.DataType], bool], int]] = [
    (pa.types.is_boolean, T.TTypeId.BOOLEAN_TYPE),
    (pa.types.is_int8, T.TTypeId.TINYINT_TYPE),
    (pa.types.is_int16, T.TTypeId.SMALLINT_TYPE),
    (pa.types.is_int32, T.TTypeId.INT_TYPE),
    (pa.types.is_int64, T.TTypeId.BIGINT_TYPE),
    (pa.types.is_float32, T.TTypeId.FLOAT_TYPE),
    (pa.types.is_float64, T.TTypeId.DOUBLE_TYPE),
    (pa.types.is_decimal, T.TTypeId.DECIMAL_TYPE),
    (pa.types.is_timestamp, T.TTypeId.TIMESTAMP_TYPE),
    (pa.types.is_date, T.TTypeId.DATE_TYPE),
    (pa.types.is_binary, T.TTypeId.BINARY_TYPE),
    (pa.types.is_null, T.TTypeId.NULL_TYPE),
]


def _as_databricks(table: pa.Table) -> pa.Table:
    """Columns of types Databricks does not return (unsigned, nested, ...) as strings."""
    for i, f in enumerate(table.schema):
        if not any(test(f.type) for test, _ in _TYPES) and not pa.types.is_string(f.type):
            table = table.set_column(i, pa.field(f.name, pa.string()), table.column(i).cast(pa.string()))
    return table


def _column(i: int, f: pa.Field) -> T.TColumnDesc:
    type_id = next((t for test, t in _TYPES if test(f.type)), T.TTypeId.STRING_TYPE)
    qualifiers = None
    if type_id == T.TTypeId.DECIMAL_TYPE:  # the connector needs precision and scale to read decimals
        qualifiers = T.TTypeQualifiers(
            qualifiers={
                "precision": T.TTypeQualifierValue(i32Value=f.type.precision),
                "scale": T.TTypeQualifierValue(i32Value=f.type.scale),
            }
        )
    entry = T.TTypeEntry(primitiveEntry=T.TPrimitiveTypeEntry(type=type_id, typeQualifiers=qualifiers))
    return T.TColumnDesc(columnName=f.name, typeDesc=T.TTypeDesc(types=[entry]), position=i + 1)


@dataclass
class Operation:
    table: pa.Table
    modified_rows: int | None
    offset: int = 0

    def metadata(self) -> T.TGetResultSetMetadataResp:
        return T.TGetResultSetMetadataResp(
            status=OK,
            schema=T.TTableSchema(columns=[_column(i, f) for i, f in enumerate(self.table.schema)]),
            resultFormat=T.TSparkRowSetType.ARROW_BASED_SET,
            lz4Compressed=False,
            arrowSchema=self.table.schema.serialize().to_pybytes(),
        )

    def fetch(self, max_rows: int | None) -> T.TFetchResultsResp:
        start = self.offset
        chunk = self.table.slice(start, max_rows or self.table.num_rows)
        self.offset += chunk.num_rows
        batches = [T.TSparkArrowBatch(batch=b.serialize().to_pybytes(), rowCount=b.num_rows)
                   for b in chunk.to_batches() if b.num_rows]  # fmt: skip
        return T.TFetchResultsResp(
            status=OK,
            hasMoreRows=self.offset < self.table.num_rows,
            results=T.TRowSet(startRowOffset=start, rows=[], arrowBatches=batches),
            resultSetMetadata=self.metadata(),
        )

    def status(self) -> T.TGetOperationStatusResp:
        return T.TGetOperationStatusResp(
            status=OK, operationState=T.TOperationState.FINISHED_STATE, hasResultSet=True,
            numModifiedRows=self.modified_rows,
        )  # fmt: skip


@dataclass
class Handler(TCLIService.Iface):
    """The service: ``before(method, statement)`` is called as each call starts and may raise or delay
    it (fault injection); ``after(method)`` once its work is done, before the reply is sent."""

    engine: SqlEngine
    before: Callable[[str, str | None], None]
    after: Callable[[str], None]
    sessions: set[bytes] = field(default_factory=set)
    operations: dict[bytes, Operation] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def OpenSession(self, req: Any) -> T.TOpenSessionResp:
        self.before("OpenSession", None)
        guid = uuid.uuid4().bytes
        with self.lock:
            self.sessions.add(guid)
        self.after("OpenSession")
        handle = T.TSessionHandle(sessionId=T.THandleIdentifier(guid=guid, secret=uuid.uuid4().bytes),
                                  serverProtocolVersion=PROTOCOL)  # fmt: skip
        return T.TOpenSessionResp(status=OK, serverProtocolVersion=PROTOCOL, sessionHandle=handle,
                                  canUseMultipleCatalogs=True, configuration={})  # fmt: skip

    def CloseSession(self, req: Any) -> T.TCloseSessionResp:
        self.before("CloseSession", None)
        with self.lock:
            self.sessions.discard(req.sessionHandle.sessionId.guid)
        self.after("CloseSession")
        return T.TCloseSessionResp(status=OK)

    def ExecuteStatement(self, req: Any) -> T.TExecuteStatementResp:
        self.before("ExecuteStatement", req.statement)
        if req.sessionHandle.sessionId.guid not in self.sessions:
            return T.TExecuteStatementResp(status=T.TStatus(
                statusCode=T.TStatusCode.ERROR_STATUS, errorMessage="Invalid SessionHandle", sqlState="HY000"))  # fmt: skip
        guid = uuid.uuid4().bytes
        handle = T.TOperationHandle(operationId=T.THandleIdentifier(guid=guid, secret=b"\0" * 16),
                                    operationType=T.TOperationType.EXECUTE_STATEMENT, hasResultSet=True)  # fmt: skip
        try:
            result: Result = self.engine.execute(req.statement, req.parameters or ())
        except SqlError as err:
            self.after("ExecuteStatement")
            failed = T.TGetOperationStatusResp(status=OK, operationState=T.TOperationState.ERROR_STATE,
                                               sqlState=err.sql_state, errorMessage=str(err), displayMessage=str(err))  # fmt: skip
            return T.TExecuteStatementResp(status=OK, operationHandle=handle,
                                           directResults=T.TSparkDirectResults(operationStatus=failed))  # fmt: skip
        self.after("ExecuteStatement")
        op = Operation(_as_databricks(result.table), result.modified_rows)
        if req.getDirectResults is None:  # an asynchronous client polls and fetches
            with self.lock:
                self.operations[guid] = op
            return T.TExecuteStatementResp(status=OK, operationHandle=handle)
        rows = op.fetch(req.getDirectResults.maxRows)
        closed = None
        if rows.hasMoreRows:
            with self.lock:
                self.operations[guid] = op
        else:
            closed = T.TCloseOperationResp(status=OK)
        direct = T.TSparkDirectResults(operationStatus=op.status(), resultSetMetadata=op.metadata(),
                                       resultSet=rows, closeOperation=closed)  # fmt: skip
        return T.TExecuteStatementResp(status=OK, operationHandle=handle, directResults=direct)

    def _operation(self, method: str, handle: Any) -> Operation:
        self.before(method, None)
        with self.lock:
            op = self.operations.get(handle.operationId.guid)
        if op is None:
            raise LookupError(f"{method}: unknown operation")
        return op

    def GetOperationStatus(self, req: Any) -> T.TGetOperationStatusResp:
        resp = self._operation("GetOperationStatus", req.operationHandle).status()
        self.after("GetOperationStatus")
        return resp

    def GetResultSetMetadata(self, req: Any) -> T.TGetResultSetMetadataResp:
        resp = self._operation("GetResultSetMetadata", req.operationHandle).metadata()
        self.after("GetResultSetMetadata")
        return resp

    def FetchResults(self, req: Any) -> T.TFetchResultsResp:
        resp = self._operation("FetchResults", req.operationHandle).fetch(req.maxRows)
        self.after("FetchResults")
        return resp

    def CloseOperation(self, req: Any) -> T.TCloseOperationResp:
        self.before("CloseOperation", None)
        with self.lock:
            self.operations.pop(req.operationHandle.operationId.guid, None)
        self.after("CloseOperation")
        return T.TCloseOperationResp(status=OK)

    def CancelOperation(self, req: Any) -> T.TCancelOperationResp:
        self.before("CancelOperation", None)
        with self.lock:
            self.operations.pop(req.operationHandle.operationId.guid, None)
        self.after("CancelOperation")
        return T.TCancelOperationResp(status=OK)
