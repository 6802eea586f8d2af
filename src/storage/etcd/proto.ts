/**
 * The part of etcd's v3 gRPC API this backend uses, as protobuf text, and its loaded service
 * constructors.
 *
 * Field numbers and names follow etcd's own definitions (etcd-io/etcd api/etcdserverpb/rpc.proto and
 * api/mvccpb/kv.proto, Apache-2.0), trimmed to the messages used here and without the gogoproto and
 * grpc-gateway annotations, which only matter to Go code generation. Protobuf ignores unknown
 * fields, so this subset talks to etcd 3.4 and every later 3.x.
 *
 * Kept as text inside a .ts file (not a .proto file beside it) so the build output needs no asset
 * copying; protobufjs parses it once at load.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const ETCD_PROTO = `
syntax = "proto3";
package etcdserverpb;

service KV {
  rpc Range(RangeRequest) returns (RangeResponse);
  rpc Put(PutRequest) returns (PutResponse);
  rpc DeleteRange(DeleteRangeRequest) returns (DeleteRangeResponse);
  rpc Txn(TxnRequest) returns (TxnResponse);
  rpc Compact(CompactionRequest) returns (CompactionResponse);
}

service Watch {
  rpc Watch(stream WatchRequest) returns (stream WatchResponse);
}

service Maintenance {
  rpc Status(StatusRequest) returns (StatusResponse);
  rpc Defragment(DefragmentRequest) returns (DefragmentResponse);
  rpc MoveLeader(MoveLeaderRequest) returns (MoveLeaderResponse);
}

service Cluster {
  rpc MemberList(MemberListRequest) returns (MemberListResponse);
}

message ResponseHeader {
  uint64 cluster_id = 1;
  uint64 member_id = 2;
  int64 revision = 3;
  uint64 raft_term = 4;
}

message KeyValue {
  bytes key = 1;
  int64 create_revision = 2;
  int64 mod_revision = 3;
  int64 version = 4;
  bytes value = 5;
  int64 lease = 6;
}

message Event {
  enum EventType {
    PUT = 0;
    DELETE = 1;
  }
  EventType type = 1;
  KeyValue kv = 2;
  KeyValue prev_kv = 3;
}

message RangeRequest {
  bytes key = 1;
  bytes range_end = 2;
  int64 limit = 3;
  int64 revision = 4;
  int32 sort_order = 5;
  int32 sort_target = 6;
  bool serializable = 7;
  bool keys_only = 8;
  bool count_only = 9;
}

message RangeResponse {
  ResponseHeader header = 1;
  repeated KeyValue kvs = 2;
  bool more = 3;
  int64 count = 4;
}

message PutRequest {
  bytes key = 1;
  bytes value = 2;
  int64 lease = 3;
  bool prev_kv = 4;
}

message PutResponse {
  ResponseHeader header = 1;
  KeyValue prev_kv = 2;
}

message DeleteRangeRequest {
  bytes key = 1;
  bytes range_end = 2;
  bool prev_kv = 3;
}

message DeleteRangeResponse {
  ResponseHeader header = 1;
  int64 deleted = 2;
  repeated KeyValue prev_kvs = 3;
}

message RequestOp {
  oneof request {
    RangeRequest request_range = 1;
    PutRequest request_put = 2;
    DeleteRangeRequest request_delete_range = 3;
  }
}

message ResponseOp {
  oneof response {
    RangeResponse response_range = 1;
    PutResponse response_put = 2;
    DeleteRangeResponse response_delete_range = 3;
  }
}

message Compare {
  enum CompareResult {
    EQUAL = 0;
    GREATER = 1;
    LESS = 2;
    NOT_EQUAL = 3;
  }
  enum CompareTarget {
    VERSION = 0;
    CREATE = 1;
    MOD = 2;
    VALUE = 3;
    LEASE = 4;
  }
  CompareResult result = 1;
  CompareTarget target = 2;
  bytes key = 3;
  oneof target_union {
    int64 version = 4;
    int64 create_revision = 5;
    int64 mod_revision = 6;
    bytes value = 7;
    int64 lease = 8;
  }
}

message TxnRequest {
  repeated Compare compare = 1;
  repeated RequestOp success = 2;
  repeated RequestOp failure = 3;
}

message TxnResponse {
  ResponseHeader header = 1;
  bool succeeded = 2;
  repeated ResponseOp responses = 3;
}

message CompactionRequest {
  int64 revision = 1;
  bool physical = 2;
}

message CompactionResponse {
  ResponseHeader header = 1;
}

message WatchRequest {
  oneof request_union {
    WatchCreateRequest create_request = 1;
    WatchCancelRequest cancel_request = 2;
    WatchProgressRequest progress_request = 3;
  }
}

message WatchCreateRequest {
  bytes key = 1;
  bytes range_end = 2;
  int64 start_revision = 3;
  bool progress_notify = 4;
  repeated int32 filters = 5;
  bool prev_kv = 6;
}

message WatchCancelRequest {
  int64 watch_id = 1;
}

message WatchProgressRequest {
}

message WatchResponse {
  ResponseHeader header = 1;
  int64 watch_id = 2;
  bool created = 3;
  bool canceled = 4;
  int64 compact_revision = 5;
  string cancel_reason = 6;
  bool fragment = 7;
  repeated Event events = 11;
}

message StatusRequest {
}

message StatusResponse {
  ResponseHeader header = 1;
  string version = 2;
  int64 dbSize = 3;
  uint64 leader = 4;
  uint64 raftIndex = 5;
  uint64 raftTerm = 6;
  uint64 raftAppliedIndex = 7;
  repeated string errors = 8;
  int64 dbSizeInUse = 9;
  bool isLearner = 10;
}

message DefragmentRequest {
}

message DefragmentResponse {
  ResponseHeader header = 1;
}

message MoveLeaderRequest {
  uint64 targetID = 1;
}

message MoveLeaderResponse {
  ResponseHeader header = 1;
}

message Member {
  uint64 ID = 1;
  string name = 2;
  repeated string peerURLs = 3;
  repeated string clientURLs = 4;
  bool isLearner = 5;
}

message MemberListRequest {
}

message MemberListResponse {
  ResponseHeader header = 1;
  repeated Member members = 2;
}
`;

// ---------------------------------------------------------------- message shapes (as proto-loader decodes them)

/** Revisions and ids arrive as decimal strings (longs: String) so 64-bit ids lose nothing. */
export interface ResponseHeader { cluster_id: string; member_id: string; revision: string; raft_term: string }
export interface PbKeyValue { key: Buffer; create_revision: string; mod_revision: string; version: string; value: Buffer; lease: string }
export interface PbEvent { type: 'PUT' | 'DELETE'; kv: PbKeyValue | null; prev_kv: PbKeyValue | null }
export interface RangeRequest { key: Buffer; range_end?: Buffer; limit?: number; revision?: number; serializable?: boolean; count_only?: boolean; keys_only?: boolean }
export interface RangeResponse { header: ResponseHeader; kvs: PbKeyValue[]; more: boolean; count: string }
export interface PutRequest { key: Buffer; value: Buffer; prev_kv?: boolean }
export interface PutResponse { header: ResponseHeader; prev_kv: PbKeyValue | null }
export interface DeleteRangeRequest { key: Buffer; range_end?: Buffer; prev_kv?: boolean }
export interface DeleteRangeResponse { header: ResponseHeader; deleted: string; prev_kvs: PbKeyValue[] }
export type RequestOp = { request_range: RangeRequest } | { request_put: PutRequest } | { request_delete_range: DeleteRangeRequest };
export interface ResponseOp { response?: 'response_range' | 'response_put' | 'response_delete_range'; response_range?: RangeResponse; response_put?: PutResponse; response_delete_range?: DeleteRangeResponse }
export interface Compare {
  result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  target: 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';
  key: Buffer;
  version?: number; create_revision?: number; mod_revision?: number; value?: Buffer;
}
export interface TxnRequest { compare: Compare[]; success: RequestOp[]; failure: RequestOp[] }
export interface TxnResponse { header: ResponseHeader; succeeded: boolean; responses: ResponseOp[] }
export interface WatchCreateRequest { key: Buffer; range_end: Buffer; start_revision: number; progress_notify: boolean; prev_kv: boolean }
export type WatchRequest = { create_request: WatchCreateRequest } | { cancel_request: { watch_id: number } } | { progress_request: Record<string, never> };
export interface WatchResponse {
  header: ResponseHeader; watch_id: string; created: boolean; canceled: boolean;
  compact_revision: string; cancel_reason: string; fragment: boolean; events: PbEvent[];
}
export interface StatusResponse { header: ResponseHeader; version: string; dbSize: string; leader: string; raftTerm: string; dbSizeInUse: string; errors: string[] }
export interface Member { ID: string; name: string; peerURLs: string[]; clientURLs: string[] }
export interface MemberListResponse { header: ResponseHeader; members: Member[] }

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

/** A KV service client (only the methods declared above). */
export interface KVClient extends grpc.Client {
  Range: Unary<RangeRequest, RangeResponse>;
  Put: Unary<PutRequest, PutResponse>;
  DeleteRange: Unary<DeleteRangeRequest, DeleteRangeResponse>;
  Txn: Unary<TxnRequest, TxnResponse>;
  Compact: Unary<{ revision: number; physical?: boolean }, { header: ResponseHeader }>;
}
export interface WatchClient extends grpc.Client {
  Watch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<WatchRequest, WatchResponse>;
}
export interface MaintenanceClient extends grpc.Client {
  Status: Unary<Record<string, never>, StatusResponse>;
  Defragment: Unary<Record<string, never>, { header: ResponseHeader }>;
  MoveLeader: Unary<{ targetID: string }, { header: ResponseHeader }>;
}
export interface ClusterClient extends grpc.Client {
  MemberList: Unary<Record<string, never>, MemberListResponse>;
}

type Ctor<C> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => C;

/** The service constructors, built once from ETCD_PROTO. */
export const etcdServices: { KV: Ctor<KVClient>; Watch: Ctor<WatchClient>; Maintenance: Ctor<MaintenanceClient>; Cluster: Ctor<ClusterClient> } = (() => {
  const root = protobuf.parse(ETCD_PROTO, { keepCase: true }).root;
  const def = protoLoader.fromJSON(root.toJSON(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = (grpc.loadPackageDefinition(def) as unknown as { etcdserverpb: Record<string, unknown> }).etcdserverpb;
  return { KV: pkg.KV, Watch: pkg.Watch, Maintenance: pkg.Maintenance, Cluster: pkg.Cluster } as never;
})();
