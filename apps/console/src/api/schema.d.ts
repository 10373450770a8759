// Generated from docs/openapi.json by tools/ci/console-api-types.mjs (`npm run openapi`); do not edit.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["HealthController_healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["HealthController_readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/chat/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a chat completion (OpenAI-compatible); `stream: true` answers with server-sent events. The job id is in `x-gridline-job-id`. */
        post: operations["ChatCompletionsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/completions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a plain completion of a prompt, without the chat template (OpenAI-compatible); `stream: true` answers with server-sent events. The job id is in `x-gridline-job-id`. */
        post: operations["ChatCompletionsController_complete"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the models a caller may use (OpenAI-compatible): the catalog's and those registered endpoints serve, with where each is served */
        get: operations["ModelsController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One model (OpenAI-compatible); one the list would not show is 404 model_not_found */
        get: operations["ModelsController_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's team's jobs (superadmins: all, or one team's with `teamId`), newest first, cursor-paginated; filters: status, model */
        get: operations["JobsController_list"];
        put?: never;
        /** Submit an inference job (the body of a chat or plain completion); answers 202 with its id at once */
        post: operations["JobsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Status, timings, usage and the result of a job */
        get: operations["JobsController_get"];
        put?: never;
        post?: never;
        /** Cancel a job (idempotent: a job that already ended is returned as it is) */
        delete: operations["JobsController_cancel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Usage from the jobs table, grouped by team, model, key, user, UTC day and/or endpoint (the remote endpoint that served the job, or this cluster): requests by outcome, tokens (prompt, cached, completion), queue wait, time to first token, total time. Team admins: their team; superadmins: every team (or `teamId`). `format=csv` for a spreadsheet */
        get: operations["UsageController_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/endpoints": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Registered endpoints (peer Gridlines, Backend.AI clusters, OpenAI-compatible servers) with their health, circuit and catalog */
        get: operations["EndpointsController_list"];
        put?: never;
        /** Registers an endpoint after a handshake (the credential accepted, the kind right, its models listed); the secret is never shown again */
        post: operations["EndpointsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/endpoints/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["EndpointsController_get"];
        put?: never;
        post?: never;
        delete: operations["EndpointsController_remove"];
        options?: never;
        head?: never;
        /** Changes weight, health settings, enabled; a new url or credentials are checked by a handshake first */
        patch: operations["EndpointsController_update"];
        trace?: never;
    };
    "/api/v1/endpoints/{id}/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Checks the endpoint now and refreshes its catalog when it answers (its health moves as a scheduled check would) */
        post: operations["EndpointsController_refresh"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/endpoints/{id}/models/{remoteModel}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** How one of the endpoint's models is offered: its alias, the teams that may use it, enabled (a model id with `/` is URL-encoded) */
        patch: operations["EndpointsController_updateModel"];
        trace?: never;
    };
    "/api/v1/fallbacks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Models' fallback chains: where a model's requests go when nothing healthy serves it */
        get: operations["FallbacksController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/fallbacks/{model}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put: operations["FallbacksController_set"];
        post?: never;
        delete: operations["FallbacksController_remove"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/whoami": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["WhoamiController_whoami"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["AuditController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["TeamsController_list"];
        put?: never;
        post: operations["TeamsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["TeamsController_get"];
        put?: never;
        post?: never;
        delete: operations["TeamsController_delete"];
        options?: never;
        head?: never;
        patch: operations["TeamsController_update"];
        trace?: never;
    };
    "/api/v1/teams/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["MembersController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put: operations["MembersController_set"];
        post?: never;
        delete: operations["MembersController_remove"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["UsersController_me"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["UsersController_list"];
        put?: never;
        post: operations["UsersController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["UsersController_get"];
        put?: never;
        post?: never;
        delete: operations["UsersController_delete"];
        options?: never;
        head?: never;
        patch: operations["UsersController_update"];
        trace?: never;
    };
    "/api/v1/keypairs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["KeypairsController_list"];
        put?: never;
        post: operations["KeypairsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/keypairs/{accessKey}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["KeypairsController_get"];
        put?: never;
        post?: never;
        delete: operations["KeypairsController_delete"];
        options?: never;
        head?: never;
        patch: operations["KeypairsController_update"];
        trace?: never;
    };
    "/api/v1/keypairs/{accessKey}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["KeypairsController_rotate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["TokensController_list"];
        put?: never;
        post: operations["TokensController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["TokensController_get"];
        put?: never;
        post?: never;
        delete: operations["TokensController_revoke"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["ModelCatalogController_list"];
        put?: never;
        post: operations["ModelCatalogController_register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/models/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["ModelCatalogController_get"];
        put?: never;
        post?: never;
        delete: operations["ModelCatalogController_remove"];
        options?: never;
        head?: never;
        patch: operations["ModelCatalogController_update"];
        trace?: never;
    };
    "/api/v1/models/{name}/file": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["ModelCatalogController_download"];
        put: operations["ModelCatalogController_upload"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/models/{name}/requirements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["ModelCatalogController_requirements"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/model-presets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["ModelPresetsController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/model-presets/{preset}/requirements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["ModelPresetsController_requirements"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/deployments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["DeploymentsController_list"];
        put?: never;
        /** Plans a deployment against the fleet and stores it; with `?dryRun=true`, returns the plan (200) without storing anything */
        post: operations["DeploymentsController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/deployments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["DeploymentsController_get"];
        put?: never;
        post?: never;
        delete: operations["DeploymentsController_remove"];
        options?: never;
        head?: never;
        patch: operations["DeploymentsController_update"];
        trace?: never;
    };
    "/api/v1/instance-types": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["InstanceTypesController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/agent/join": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** An agent joins with a join token and receives its node credential (shown once) */
        post: operations["AgentController_join"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/agent/heartbeat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The node's inventory and replicas; the answer carries the replicas the control plane wants on it */
        post: operations["AgentController_heartbeat"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/agent/models/{id}/file": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["AgentController_file"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/join-tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["JoinTokensController_list"];
        put?: never;
        /** Creates a join token for agents (shown once); single use unless maxUses says otherwise */
        post: operations["JoinTokensController_create"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/join-tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revokes a join token: no node joins with it any more (nodes that joined keep their credentials) */
        delete: operations["JoinTokensController_revoke"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["NodesController_list"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/loads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Recent model loads: the memory planned next to the memory each load took */
        get: operations["NodesController_loads"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: operations["NodesController_get"];
        put?: never;
        post?: never;
        /** Removes a node that is drained and holds nothing, or is Lost */
        delete: operations["NodesController_remove"];
        options?: never;
        head?: never;
        /** Sets the labels and taints (each replaces what was there) */
        patch: operations["NodesController_update"];
        trace?: never;
    };
    "/api/v1/nodes/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post: operations["NodesController_approve"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}/cordon": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** No new jobs or replicas go to the node; what runs there keeps running */
        post: operations["NodesController_cordon"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}/uncordon": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Ends a cordon or a drain */
        post: operations["NodesController_uncordon"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}/drain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** No new jobs; jobs in flight finish; then the node may be deleted */
        post: operations["NodesController_drain"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revokes the node's credential: its agent is refused from its next request on */
        post: operations["NodesController_revoke"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}/replicas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Loads a catalog model on the node: the agent pulls its file, loads it and reports (state Pulling → Loading → Ready or Failed) */
        post: operations["NodesController_addReplica"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes/{id}/replicas/{replicaId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Unloads a replica: no new jobs go to it, and the agent unloads it once its jobs are done */
        delete: operations["NodesController_removeReplica"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/teams/{id}/quotas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The team's inference quotas (its own, per key, per model) and their current use; members read their own team's */
        get: operations["QuotasController_get"];
        /** Replaces every inference quota of the team (left out: no limit); api replicas apply it within GRIDLINE_QUOTA_CACHE_MS */
        put: operations["QuotasController_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/queues/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Open a queue board session
         * @description Sets the `gl_queue_board` cookie (HttpOnly, SameSite=Strict, Path=/admin/queues, Secure over https, ten minutes) that lets this browser open the queue board at /admin/queues. Audited.
         */
        post: operations["QueueBoardController_open"];
        /**
         * End the queue board session in this browser
         * @description Clears the `gl_queue_board` cookie.
         */
        delete: operations["QueueBoardController_close"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The queue board (bull-board) for superadmins
         * @description bull-board's web UI over Gridline's queues (`inference`, and `node.<id>` per node). A browser opens a session first with POST /api/v1/admin/queues/session; curl may send a superadmin bearer token or signature instead. Its JSON API lies beneath (GET /admin/queues/api/queues lists the queues and their jobs). Pausing, resuming, retrying, promoting and cleaning completed or failed jobs are allowed and audited; every other change (adding or editing a job, emptying or obliterating a queue, rate limits, concurrency, job schedulers) is refused (queue_board_action_refused).
         */
        get: operations["QueueBoard_page"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/queues/api/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The queue board's list of queues and their jobs (bull-board's JSON API) */
        get: operations["QueueBoard_queues"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description Stable code from the API error catalogue
         * @enum {string}
         */
        ApiErrorCode: "invalid_json" | "validation_failed" | "unsupported_parameter" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "payload_too_large" | "unsupported_media_type" | "invalid_cursor" | "route_not_found" | "metrics_not_exposed" | "method_not_allowed" | "authentication_required" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version" | "signature_mismatch" | "replayed_request" | "invalid_token" | "insufficient_scope" | "forbidden" | "join_token_invalid" | "join_token_expired" | "join_token_revoked" | "join_token_used" | "node_revoked" | "node_mismatch" | "queue_board_session_invalid" | "queue_board_session_expired" | "not_found" | "model_not_allowed" | "email_taken" | "team_exists" | "idempotency_key_reused" | "model_exists" | "invalid_model_source" | "model_source_unreachable" | "invalid_model_file" | "model_shape_unknown" | "model_not_deployable" | "deployment_exists" | "deployment_infeasible" | "deployment_not_applicable" | "node_not_removable" | "node_not_schedulable" | "endpoint_exists" | "endpoint_credential_refused" | "endpoint_unreachable" | "endpoint_incompatible" | "queue_board_action_refused" | "rate_limit_exceeded" | "not_ready" | "redis_unavailable" | "redis_memory_full" | "internal_error" | "model_not_found" | "invalid_request" | "context_length_exceeded" | "no_capacity" | "queue_full" | "timeout" | "cancelled" | "node_lost" | "runner_crashed" | "generation_failed" | "stream_interrupted" | "endpoint_unavailable" | "endpoint_rate_limited" | "endpoint_failed" | "endpoint_timeout" | "internal";
        ReadinessChecksDto: {
            /** @enum {string} */
            postgres: "ok" | "unreachable";
            /** @enum {string} */
            redis: "ok" | "unreachable";
        };
        NotReadyProblemDto: {
            /**
             * @description A URI naming the code
             * @example https://gridline.dev/errors/not_found
             */
            type: string;
            /**
             * @description The code's title, the same for every occurrence
             * @example Not found
             */
            title: string;
            /** @example 404 */
            status: number;
            /**
             * @description This occurrence; quotes no more than a short prefix of the input
             * @example team '0b5f…' was not found
             */
            detail: string;
            /** @description Stable code from the API error catalogue */
            code: components["schemas"]["ApiErrorCode"];
            /**
             * @description The request field (or path or query parameter) the error is about
             * @example expiresAt
             */
            param?: string;
            /** @description The request id, also in the x-request-id header */
            requestId: string;
            checks: components["schemas"]["ReadinessChecksDto"];
        };
        LivenessDto: {
            /** @enum {string} */
            status: "ok";
        };
        ReadinessDto: {
            /** @enum {string} */
            status: "ok";
            checks: components["schemas"]["ReadinessChecksDto"];
        };
        ToolCallFunctionDto: {
            /** @example get_weather */
            name: string;
            /**
             * @description The arguments as JSON text
             * @example {"city": "Paris"}
             */
            arguments: string;
        };
        ToolCallDto: {
            /** @example call_5b1f0c2a9d4e8f7a6b3c2d1e */
            id: string;
            /** @enum {string} */
            type: "function";
            function: components["schemas"]["ToolCallFunctionDto"];
        };
        ChatMessageDto: {
            /** @enum {string} */
            role: "system" | "developer" | "user" | "assistant" | "tool";
            /** @description May be null (or left out) in an assistant message that has tool_calls */
            content: (string | {
                /** @enum {string} */
                type?: "text";
                text?: string;
            }[]) | null;
            /** @description An assistant message: the tools it called (each answered by a following `tool` message) */
            tool_calls?: components["schemas"]["ToolCallDto"][];
            /** @description A `tool` message: the id of the call whose result `content` is */
            tool_call_id?: string;
            /** @description Accepted and ignored, so that a response message can be sent back as it is */
            refusal?: string | null;
            name?: string;
        };
        StreamOptionsDto: {
            /** @description A last chunk with `usage` and no choices */
            include_usage?: boolean;
            /** @description Accepted and ignored: chunks carry no obfuscation padding */
            include_obfuscation?: boolean;
        };
        FunctionDefinitionDto: {
            /** @example get_weather */
            name: string;
            description?: string;
            /** @description A JSON schema of type object. The arguments are generated under a grammar built from it: type, properties, required, additionalProperties, items, prefixItems, enum, const, oneOf, anyOf, minLength/maxLength, minItems/maxItems, min/maxProperties, format (date, time, date-time) and $defs/$ref are honoured, annotations (description, title, default, …) are accepted, any other keyword is 400 */
            parameters?: {
                [key: string]: unknown;
            };
            /** @description Accepted: the arguments always follow the schema (grammar-constrained) */
            strict?: boolean;
        };
        ToolDto: {
            /** @enum {string} */
            type: "function";
            function: components["schemas"]["FunctionDefinitionDto"];
        };
        CreateChatCompletionDto: {
            /**
             * @description Sampling temperature; 0 picks the most likely token (greedy)
             * @default 1
             */
            temperature?: number;
            /**
             * @description Nucleus sampling: sample among the most likely tokens whose probabilities add up to top_p
             * @default 1
             */
            top_p?: number;
            /** @description Seed for sampling; the same seed and request give the same text */
            seed?: number;
            /** @description Sample among the k most likely tokens only (0: all); not in OpenAI, as in llama.cpp and vLLM */
            top_k?: number;
            /**
             * @description Lowers a token's logit by this times the number of times it occurs in the text generated so far (negative: raises it); llama.cpp's penalty, over the whole completion
             * @default 0
             */
            frequency_penalty?: number;
            /**
             * @description Lowers the logit of every token that occurs in the text generated so far by this (negative: raises it); llama.cpp's penalty, over the whole completion
             * @default 0
             */
            presence_penalty?: number;
            /** @example demo */
            model: string;
            /** @description The most tokens to generate. The prompt's tokens plus this must fit the model's context (else 400 context_length_exceeded); left out, generation may go on to the end of the context, at most 32768 tokens */
            max_tokens?: number;
            /** @description Same as max_tokens; wins when both are given */
            max_completion_tokens?: number;
            stop?: string | string[];
            /**
             * @description Choices per request: only 1 is supported (any other value is 400 unsupported_parameter)
             * @default 1
             */
            n?: number;
            /** @description Token id (of the model's tokenizer) to a bias added to the token's logit before sampling: -100 bans the token, 100 all but forces it, values in between shift its odds. An id outside the model's vocabulary fails the request with 400 invalid_request (param logit_bias) */
            logit_bias?: {
                [key: string]: number;
            };
            /** @description End-user id; accepted and ignored */
            user?: string;
            /** @description Accepted and ignored: Gridline keeps no completions for later retrieval */
            store?: boolean;
            /** @description Accepted and ignored */
            metadata?: {
                [key: string]: string;
            };
            /**
             * @description Accepted and ignored: every request is served alike
             * @enum {string}
             */
            service_tier?: "auto" | "default" | "flex" | "scale" | "priority";
            messages: components["schemas"]["ChatMessageDto"][];
            /** @default false */
            stream?: boolean;
            stream_options?: components["schemas"]["StreamOptionsDto"];
            /**
             * @description Return the log probability of each generated token (choices[].logprobs.content), from the generation pass itself
             * @default false
             */
            logprobs?: boolean;
            /** @description With logprobs: true, the most likely tokens at each place, with their log probabilities */
            top_logprobs?: number;
            /** @description `json_object`: the output is JSON; `json_schema`: JSON valid against `json_schema.schema`, enforced by a grammar while generating. Schemas are held to what the grammar enforces, as tools' parameters (type, enum, const, oneOf, anyOf, $ref to $defs, properties, required, additionalProperties, items, prefixItems, min/max items, properties and length, string formats date, time, date-time): others are 400 unsupported_parameter, as is a JSON format with tools */
            response_format?: {
                /** @enum {string} */
                type?: "text" | "json_object" | "json_schema";
                json_schema?: {
                    name?: string;
                    description?: string;
                    schema?: {
                        [key: string]: unknown;
                    };
                    strict?: boolean | null;
                };
            };
            /** @description Functions the model may call. Their parameters schemas constrain the arguments generated (a grammar), so only the keywords it honours are accepted; see the README */
            tools?: components["schemas"]["ToolDto"][];
            /** @description `auto` (the default with tools): the model may call a function; `required`: it calls one; `{"type": "function", "function": {"name": …}}`: it calls that one; `none`: it answers in text */
            tool_choice?: ("none" | "auto" | "required") | {
                /** @enum {string} */
                type?: "function";
                function?: {
                    name?: string;
                };
            };
            /** @description Accepted and ignored: a response holds at most one tool call */
            parallel_tool_calls?: boolean;
        };
        PromptTokensDetailsDto: {
            /** @description Prompt tokens the node had cached from an earlier request and did not evaluate again */
            cached_tokens: number;
        };
        UsageDto: {
            /** Format: date-time */
            from: string;
            /** Format: date-time */
            to: string;
            groupBy: ("team" | "model" | "key" | "user" | "day" | "endpoint")[];
            items: components["schemas"]["UsageRowDto"][];
        };
        ChatCompletionMessageDto: {
            /** @enum {string} */
            role: "assistant";
            /** @description null when the message is tool calls only */
            content: string | null;
            refusal: string | null;
            /** @description The tools the model called (finish_reason `tool_calls`) */
            tool_calls?: components["schemas"]["ToolCallDto"][];
        };
        TopLogprobDto: {
            token: string;
            /** @description Natural log of the probability; -9999 for a token the sampler ruled out */
            logprob: number;
            /** @description The token's UTF-8 bytes */
            bytes: number[] | null;
        };
        ChatTokenLogprobDto: {
            token: string;
            /** @description Natural log of the probability; -9999 for a token the sampler ruled out */
            logprob: number;
            /** @description The token's UTF-8 bytes */
            bytes: number[] | null;
            /** @description The most likely tokens at this place (top_logprobs of them), most likely first */
            top_logprobs: components["schemas"]["TopLogprobDto"][];
        };
        ChatLogprobsDto: {
            content: components["schemas"]["ChatTokenLogprobDto"][] | null;
            refusal: components["schemas"]["ChatTokenLogprobDto"][] | null;
        };
        ChatCompletionChoiceDto: {
            index: number;
            message: components["schemas"]["ChatCompletionMessageDto"];
            /** @description With logprobs: true; else null */
            logprobs: components["schemas"]["ChatLogprobsDto"] | null;
            /** @enum {string} */
            finish_reason: "stop" | "length" | "tool_calls";
        };
        ChatCompletionResponseDto: {
            /**
             * @description `chatcmpl-…` for chat, `cmpl-…` for plain completions
             * @example chatcmpl-3f0c5f0e9d7c4c8f9b7f2b5c1d2e3f4a
             */
            id: string;
            /** @description Unix seconds */
            created: number;
            model: string;
            usage: components["schemas"]["UsageDto"];
            /**
             * @description The model file and the context it is served with; see the README
             * @example gl-3b1f0c2a9d4e-c4096
             */
            system_fingerprint: string;
            /** @enum {string} */
            object: "chat.completion";
            choices: components["schemas"]["ChatCompletionChoiceDto"][];
        };
        CreateCompletionDto: {
            /**
             * @description Sampling temperature; 0 picks the most likely token (greedy)
             * @default 1
             */
            temperature?: number;
            /**
             * @description Nucleus sampling: sample among the most likely tokens whose probabilities add up to top_p
             * @default 1
             */
            top_p?: number;
            /** @description Seed for sampling; the same seed and request give the same text */
            seed?: number;
            /** @description Sample among the k most likely tokens only (0: all); not in OpenAI, as in llama.cpp and vLLM */
            top_k?: number;
            /**
             * @description Lowers a token's logit by this times the number of times it occurs in the text generated so far (negative: raises it); llama.cpp's penalty, over the whole completion
             * @default 0
             */
            frequency_penalty?: number;
            /**
             * @description Lowers the logit of every token that occurs in the text generated so far by this (negative: raises it); llama.cpp's penalty, over the whole completion
             * @default 0
             */
            presence_penalty?: number;
            /** @example demo */
            model: string;
            /** @description The most tokens to generate. The prompt's tokens plus this must fit the model's context (else 400 context_length_exceeded); left out, generation may go on to the end of the context, at most 32768 tokens */
            max_tokens?: number;
            /** @description Same as max_tokens; wins when both are given */
            max_completion_tokens?: number;
            stop?: string | string[];
            /**
             * @description Choices per request: only 1 is supported (any other value is 400 unsupported_parameter)
             * @default 1
             */
            n?: number;
            /** @description Token id (of the model's tokenizer) to a bias added to the token's logit before sampling: -100 bans the token, 100 all but forces it, values in between shift its odds. An id outside the model's vocabulary fails the request with 400 invalid_request (param logit_bias) */
            logit_bias?: {
                [key: string]: number;
            };
            /** @description End-user id; accepted and ignored */
            user?: string;
            /** @description Accepted and ignored: Gridline keeps no completions for later retrieval */
            store?: boolean;
            /** @description Accepted and ignored */
            metadata?: {
                [key: string]: string;
            };
            /**
             * @description Accepted and ignored: every request is served alike
             * @enum {string}
             */
            service_tier?: "auto" | "default" | "flex" | "scale" | "priority";
            /** @description The text to continue, as is (no chat template) */
            prompt: string;
            /** @default false */
            stream?: boolean;
            stream_options?: components["schemas"]["StreamOptionsDto"];
            /** @description Return the log probability of each generated token and of the most likely `logprobs` tokens at its place (choices[].logprobs) */
            logprobs?: number | null;
            /**
             * @description Only false is supported (true is 400 unsupported_parameter)
             * @default false
             */
            echo?: boolean;
            /**
             * @description Only 1 is supported (others are 400 unsupported_parameter)
             * @default 1
             */
            best_of?: number;
            /** @description Not supported: any value is 400 unsupported_parameter */
            suffix?: string;
        };
        CompletionLogprobsDto: {
            tokens: string[];
            token_logprobs: number[];
            /** @description Per token, the most likely tokens at its place and their log probabilities */
            top_logprobs: {
                [key: string]: number;
            }[];
            /** @description Each token's offset in the text, in characters */
            text_offset: number[];
        };
        CompletionChoiceDto: {
            index: number;
            text: string;
            /** @description With logprobs set; else null */
            logprobs: components["schemas"]["CompletionLogprobsDto"] | null;
            /** @enum {string} */
            finish_reason: "stop" | "length";
        };
        CompletionResponseDto: {
            /**
             * @description `chatcmpl-…` for chat, `cmpl-…` for plain completions
             * @example chatcmpl-3f0c5f0e9d7c4c8f9b7f2b5c1d2e3f4a
             */
            id: string;
            /** @description Unix seconds */
            created: number;
            model: string;
            usage: components["schemas"]["UsageDto"];
            /**
             * @description The model file and the context it is served with; see the README
             * @example gl-3b1f0c2a9d4e-c4096
             */
            system_fingerprint: string;
            /** @enum {string} */
            object: "text_completion";
            choices: components["schemas"]["CompletionChoiceDto"][];
        };
        OpenAiModelDto: {
            /** @example demo */
            id: string;
            /** @enum {string} */
            object: "model";
            /** @description Unix seconds */
            created: number;
            /**
             * @description `gridline` for a model of this installation, else the endpoint serving it
             * @example gridline
             */
            owned_by: string;
            /**
             * @description Where it is served: `local` (this installation's fleet) and the endpoints that serve it under this name; not in OpenAI
             * @example [
             *       "local",
             *       "peer-b"
             *     ]
             */
            served_by: string[];
        };
        ModelListDto: {
            /** @enum {string} */
            object: "list";
            data: components["schemas"]["OpenAiModelDto"][];
        };
        CreateJobDto: {
            /**
             * @description Sampling temperature; 0 picks the most likely token (greedy)
             * @default 1
             */
            temperature?: number;
            /**
             * @description Nucleus sampling: sample among the most likely tokens whose probabilities add up to top_p
             * @default 1
             */
            top_p?: number;
            /** @description Seed for sampling; the same seed and request give the same text */
            seed?: number;
            /** @description Sample among the k most likely tokens only (0: all); not in OpenAI, as in llama.cpp and vLLM */
            top_k?: number;
            /**
             * @description Lowers a token's logit by this times the number of times it occurs in the text generated so far (negative: raises it); llama.cpp's penalty, over the whole completion
             * @default 0
             */
            frequency_penalty?: number;
            /**
             * @description Lowers the logit of every token that occurs in the text generated so far by this (negative: raises it); llama.cpp's penalty, over the whole completion
             * @default 0
             */
            presence_penalty?: number;
            /** @example demo */
            model: string;
            /** @description The most tokens to generate. The prompt's tokens plus this must fit the model's context (else 400 context_length_exceeded); left out, generation may go on to the end of the context, at most 32768 tokens */
            max_tokens?: number;
            /** @description Same as max_tokens; wins when both are given */
            max_completion_tokens?: number;
            stop?: string | string[];
            /**
             * @description Choices per request: only 1 is supported (any other value is 400 unsupported_parameter)
             * @default 1
             */
            n?: number;
            /** @description Token id (of the model's tokenizer) to a bias added to the token's logit before sampling: -100 bans the token, 100 all but forces it, values in between shift its odds. An id outside the model's vocabulary fails the request with 400 invalid_request (param logit_bias) */
            logit_bias?: {
                [key: string]: number;
            };
            /** @description End-user id; accepted and ignored */
            user?: string;
            /** @description Accepted and ignored: Gridline keeps no completions for later retrieval */
            store?: boolean;
            /** @description Accepted and ignored */
            metadata?: {
                [key: string]: string;
            };
            /**
             * @description Accepted and ignored: every request is served alike
             * @enum {string}
             */
            service_tier?: "auto" | "default" | "flex" | "scale" | "priority";
            /** @description Chat messages; give these or `prompt` */
            messages?: components["schemas"]["ChatMessageDto"][];
            /** @description A plain prompt, continued without the chat template; give this or `messages` */
            prompt?: string;
            /**
             * @description Order among your team's jobs waiting for a busy model (higher first); teams share by their weights whatever the priority
             * @default 0
             */
            priority?: number;
        };
        JobTimingsDto: {
            /** @description When the job was accepted (ISO-8601) */
            queued_at: string;
            dispatched_at: string | null;
            started_at: string | null;
            first_token_at: string | null;
            finished_at: string | null;
            /** @description The job is expired if it has not ended by then */
            deadline_at: string;
        };
        JobUsageDto: {
            prompt_tokens: number;
            /** @description Of the prompt tokens, those the node had cached from an earlier job and did not evaluate again (null: not reported) */
            cached_prompt_tokens: number | null;
            completion_tokens: number;
            total_tokens: number;
        };
        JobResultDto: {
            text: string;
            /** @enum {string} */
            finish_reason: "stop" | "length";
        };
        JobErrorDto: {
            /** @enum {string} */
            code: "model_not_found" | "invalid_request" | "context_length_exceeded" | "no_capacity" | "queue_full" | "timeout" | "cancelled" | "node_lost" | "runner_crashed" | "generation_failed" | "stream_interrupted" | "endpoint_unavailable" | "endpoint_rate_limited" | "endpoint_failed" | "endpoint_timeout" | "internal";
            message: string;
        };
        JobDto: {
            id: string;
            /** @enum {string} */
            object: "job";
            /** @enum {string} */
            status: "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled" | "expired";
            /**
             * Format: uuid
             * @description The team the job ran for
             */
            team_id: string;
            model: string;
            /** @enum {string} */
            kind: "chat" | "completion";
            /**
             * @description sync: a client waited on /v1; async: submitted here
             * @enum {string}
             */
            mode: "sync" | "async";
            /** @description Current try (a job lost before its first token is tried once more) */
            attempt: number;
            node_id: string | null;
            replica_id: string | null;
            /**
             * Format: uuid
             * @description The endpoint (peer, Backend.AI cluster, OpenAI-compatible server) that ran it, when no local replica did
             */
            endpoint_id: string | null;
            timings: components["schemas"]["JobTimingsDto"];
            usage: components["schemas"]["JobUsageDto"] | null;
            result: components["schemas"]["JobResultDto"] | null;
            error: components["schemas"]["JobErrorDto"] | null;
        };
        JobListDto: {
            /** @enum {string} */
            object: "list";
            data: components["schemas"]["JobDto"][];
            /** @description Pass as `cursor` for the next page; null on the last */
            next_cursor: string | null;
        };
        UsageTeamDto: {
            /** Format: uuid */
            id: string;
            name: string;
        };
        UsageKeyDto: {
            /** @enum {string} */
            kind: "keypair" | "token";
            /** Format: uuid */
            id: string;
            /** @description The keypair's access key or the token's name */
            label: string;
        };
        UsageUserDto: {
            /** Format: uuid */
            id: string;
            email: string | null;
        };
        UsageEndpointDto: {
            /** Format: uuid */
            id: string;
            /** @description Null once the endpoint was removed */
            name: string | null;
        };
        UsageOutcomesDto: {
            succeeded: number;
            failed: number;
            cancelled: number;
            expired: number;
            /** @description Not ended yet */
            open: number;
        };
        TimingDto: {
            mean: number | null;
            p50: number | null;
        };
        UsageRowDto: {
            team: components["schemas"]["UsageTeamDto"] | null;
            model: string | null;
            /** @description A keypair (its access key) or a bearer token (its name) */
            key: components["schemas"]["UsageKeyDto"] | null;
            user: components["schemas"]["UsageUserDto"] | null;
            /**
             * @description UTC day
             * @example 2026-12-01
             */
            day: string | null;
            /** @description The remote endpoint that served the jobs; null for jobs served by this cluster */
            endpoint: components["schemas"]["UsageEndpointDto"] | null;
            requests: number;
            outcomes: components["schemas"]["UsageOutcomesDto"];
            promptTokens: number;
            /** @description Of promptTokens, those found in the replica's KV cache */
            cachedPromptTokens: number;
            completionTokens: number;
            /** @description Created to started, ms */
            queueWaitMs: components["schemas"]["TimingDto"];
            /** @description Created to first token, ms */
            firstTokenMs: components["schemas"]["TimingDto"];
            /** @description Created to finished, ms */
            totalMs: components["schemas"]["TimingDto"];
        };
        EndpointHealthSettingsDto: {
            intervalSeconds: number;
            timeoutSeconds: number;
            requestTimeoutSeconds: number;
            unhealthyThreshold: number;
            healthyThreshold: number;
            breakerFailures: number;
            breakerOpenSeconds: number;
        };
        EndpointModelDto: {
            /** @description The model's id on the endpoint */
            remoteModel: string;
            /** @description The name clients use here */
            alias: string;
            /** @description Teams that may use it; null: every team that is not local-only */
            teamIds: string[] | null;
            enabled: boolean;
            /** @description Whether the endpoint's last catalog listed it */
            listed: boolean;
            /** Format: date-time */
            lastSeenAt: string;
        };
        EndpointDto: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @enum {string} */
            kind: "gridline" | "backendai" | "openai";
            url: string;
            /** @description The access key, or the last characters of the API key (the secret is never shown again) */
            credentialHint: string;
            weight: number;
            enabled: boolean;
            /** @description Models its catalog lists for the first time are offered at once */
            offerNewModels: boolean;
            health: components["schemas"]["EndpointHealthSettingsDto"];
            /**
             * @description What the active checks concluded
             * @enum {string}
             */
            state: "unknown" | "healthy" | "unhealthy";
            /** Format: date-time */
            stateSince: string;
            /**
             * @description The passive circuit breaker: open keeps requests away after failed ones
             * @enum {string}
             */
            circuit: "closed" | "open";
            /**
             * Format: date-time
             * @description Until when the circuit stays open
             */
            circuitOpenUntil: string | null;
            /** @description Routed to now: enabled, healthy, circuit closed */
            routable: boolean;
            consecutiveFailures: number;
            /** Format: date-time */
            lastCheckAt: string | null;
            /** @description Why the last check failed */
            lastError: string | null;
            /** @description The remote's version, from the handshake */
            remoteVersion: string | null;
            /** Format: date-time */
            catalogRefreshedAt: string | null;
            models: components["schemas"]["EndpointModelDto"][];
            /** Format: date-time */
            createdAt: string;
        };
        EndpointListDto: {
            items: components["schemas"]["EndpointDto"][];
        };
        EndpointCredentialsDto: {
            /**
             * @description gridline, backendai: the access key the remote issued
             * @example AKIAIOSFODNN7EXAMPLE
             */
            accessKey?: string;
            /** @description gridline, backendai: its secret key */
            secretKey?: string;
            /** @description openai: the bearer API key */
            apiKey?: string;
        };
        EndpointHealthDto: {
            /**
             * @description Seconds between active checks (GET /v1/models)
             * @default 10
             */
            intervalSeconds?: number;
            /**
             * @description Seconds an active check may take
             * @default 5
             */
            timeoutSeconds?: number;
            /**
             * @description Seconds a request waits for the endpoint's answer to begin (a peer Gridline answers with its first token), and at most between two of its chunks
             * @default 120
             */
            requestTimeoutSeconds?: number;
            /**
             * @description Failed checks in a row that make it unhealthy
             * @default 2
             */
            unhealthyThreshold?: number;
            /**
             * @description Passed checks in a row that make it healthy again
             * @default 1
             */
            healthyThreshold?: number;
            /**
             * @description Failed requests in a row that open its circuit (passive checks)
             * @default 3
             */
            breakerFailures?: number;
            /**
             * @description Seconds an open circuit keeps requests away
             * @default 30
             */
            breakerOpenSeconds?: number;
        };
        CreateEndpointDto: {
            /**
             * @description Lower-case letters, digits and dashes (1 to 63)
             * @example peer-b
             */
            name: string;
            /**
             * @description gridline: a peer Gridline (its keypair); backendai: a Backend.AI cluster (its keypair); openai: any OpenAI-compatible server (bearer key)
             * @enum {string}
             */
            kind: "gridline" | "backendai" | "openai";
            /**
             * @description Base URL; requests go to <url>/v1/…
             * @example https://gridline-b.example.com
             */
            url: string;
            credentials: components["schemas"]["EndpointCredentialsDto"];
            /**
             * @description Share of traffic among the healthy endpoints serving a model
             * @default 100
             */
            weight?: number;
            /**
             * @description Offer the models its catalog lists (now, and new ones later) to every team at once; false: each waits until an admin enables it
             * @default true
             */
            offerNewModels?: boolean;
            health?: components["schemas"]["EndpointHealthDto"];
        };
        UpdateEndpointDto: {
            /** @description A new address (checked by a handshake first) */
            url?: string;
            /** @description New credentials (checked by a handshake first) */
            credentials?: components["schemas"]["EndpointCredentialsDto"];
            weight?: number;
            /** @description False: nothing is routed there, and it is not checked */
            enabled?: boolean;
            /** @description Offer models its catalog lists for the first time at once (false: each waits for an admin) */
            offerNewModels?: boolean;
            health?: components["schemas"]["EndpointHealthDto"];
        };
        UpdateEndpointModelDto: {
            /** @description The name clients use here */
            alias?: string;
            /** @description Teams that may use it; null: every team */
            teamIds?: string[] | null;
            enabled?: boolean;
        };
        FallbackDto: {
            model: string;
            chain: string[];
            /** Format: date-time */
            updatedAt: string;
        };
        FallbackListDto: {
            items: components["schemas"]["FallbackDto"][];
        };
        FallbackChainDto: {
            /**
             * @description Models tried in order when nothing healthy serves the model
             * @example [
             *       "llama-3.1-8b",
             *       "gpt-4o-mini"
             *     ]
             */
            chain: string[];
        };
        ServerInfoDto: {
            /** @enum {string} */
            product: "gridline";
            /** @example 0.1.0 */
            version: string;
            /**
             * @description What peers rely on from each other; a peer speaking another is refused at registration
             * @example 1
             */
            meshProtocol: number;
        };
        WhoamiDto: {
            userId: string;
            teamId: string;
            /** @enum {string} */
            role: "superadmin" | "team_admin" | "member";
            /** @enum {string} */
            credential: "keypair" | "token";
            /** @description Access key or token prefix */
            label: string;
            server: components["schemas"]["ServerInfoDto"];
        };
        AuditEntryDto: {
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: uuid */
            actorUserId: string | null;
            /** @description Access key or token prefix the change was made with */
            actorCredential: string | null;
            /**
             * Format: uuid
             * @description The team the change concerns; null for platform-wide changes
             */
            teamId: string | null;
            /** @example keypair.create */
            action: string;
            /** @example keypair */
            targetType: string;
            targetId: string | null;
            /** @description What changed; never a secret */
            details: {
                [key: string]: unknown;
            };
            ip: string | null;
            requestId: string | null;
        };
        AuditPageDto: {
            items: components["schemas"]["AuditEntryDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        TeamDto: {
            /** Format: uuid */
            id: string;
            /** @example research */
            name: string;
            /** @description Fair-share weight */
            weight: number;
            /** @description null: no limit */
            quotaGpus: number | null;
            /** @description null: no limit */
            quotaGpuMemoryBytes: number | null;
            /** @description Its jobs run on this installation's replicas only */
            localOnly: boolean;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        TeamPageDto: {
            items: components["schemas"]["TeamDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        CreateTeamDto: {
            /** @example research */
            name: string;
            /** @default 1 */
            weight?: number;
            quotaGpus?: number | null;
            quotaGpuMemoryBytes?: number | null;
            /**
             * @description Its jobs run on this installation's replicas only: no endpoint's model is offered to it
             * @default false
             */
            localOnly?: boolean;
        };
        UpdateTeamDto: {
            /** @example research */
            name?: string;
            /** @default 1 */
            weight?: number;
            quotaGpus?: number | null;
            quotaGpuMemoryBytes?: number | null;
            /**
             * @description Its jobs run on this installation's replicas only: no endpoint's model is offered to it
             * @default false
             */
            localOnly?: boolean;
        };
        MembershipDto: {
            /** Format: uuid */
            teamId: string;
            /** Format: uuid */
            userId: string;
            /** @enum {string} */
            role: "team_admin" | "member";
            email: string;
            displayName: string;
            /**
             * Format: date-time
             * @description When the user joined the team
             */
            createdAt: string;
        };
        MembershipPageDto: {
            items: components["schemas"]["MembershipDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        SetMembershipDto: {
            /** @enum {string} */
            role: "team_admin" | "member";
        };
        MembershipRoleDto: {
            /** Format: uuid */
            teamId: string;
            /** Format: uuid */
            userId: string;
            /** @enum {string} */
            role: "team_admin" | "member";
        };
        MeDto: {
            /** Format: uuid */
            id: string;
            /** @example ada@example.com */
            email: string;
            /** @example Ada Lovelace */
            displayName: string;
            isSuperadmin: boolean;
            /** Format: date-time */
            createdAt: string;
            /**
             * Format: uuid
             * @description The team the credential acts for
             */
            teamId: string;
            /** @enum {string} */
            role: "superadmin" | "team_admin" | "member";
        };
        UserDto: {
            /** Format: uuid */
            id: string;
            /** @example ada@example.com */
            email: string;
            /** @example Ada Lovelace */
            displayName: string;
            isSuperadmin: boolean;
            /** Format: date-time */
            createdAt: string;
        };
        UserPageDto: {
            items: components["schemas"]["UserDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        CreateUserDto: {
            /** @example ada@example.com */
            email: string;
            /** @example Ada Lovelace */
            displayName: string;
            /**
             * Format: uuid
             * @description Team to join (superadmin; a team admin always adds to its own team)
             */
            teamId?: string;
            /**
             * @default member
             * @enum {string}
             */
            role?: "team_admin" | "member";
            /** @description Superadmin only */
            isSuperadmin?: boolean;
        };
        UpdateUserDto: {
            displayName?: string;
            /** @description Superadmin only */
            isSuperadmin?: boolean;
        };
        KeypairDto: {
            /** Format: uuid */
            id: string;
            /** @example AKIAIOSFODNN7EXAMPLE */
            accessKey: string;
            /** Format: uuid */
            userId: string;
            /** Format: uuid */
            teamId: string;
            isActive: boolean;
            /** Format: date-time */
            expiresAt: string | null;
            /** Format: date-time */
            lastUsedAt: string | null;
            /**
             * Format: uuid
             * @description The user who created it
             */
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
        };
        KeypairPageDto: {
            items: components["schemas"]["KeypairDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        CreateKeypairDto: {
            /**
             * Format: uuid
             * @description Owner (default: the caller). A member creates keys for itself only.
             */
            userId?: string;
            /**
             * Format: uuid
             * @description Team the key acts for (superadmin; default: the caller’s team)
             */
            teamId?: string;
            /**
             * Format: date-time
             * @description ISO-8601, in the future; the key stops working then
             */
            expiresAt?: string;
        };
        NewKeypairDto: {
            /** Format: uuid */
            id: string;
            /** @example AKIAIOSFODNN7EXAMPLE */
            accessKey: string;
            /** Format: uuid */
            userId: string;
            /** Format: uuid */
            teamId: string;
            isActive: boolean;
            /** Format: date-time */
            expiresAt: string | null;
            /** Format: date-time */
            lastUsedAt: string | null;
            /**
             * Format: uuid
             * @description The user who created it
             */
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
            /** @description Shown once; Gridline keeps it encrypted and never shows it again */
            secretKey: string;
        };
        UpdateKeypairDto: {
            isActive?: boolean;
            /**
             * Format: date-time
             * @description ISO-8601, in the future; null: never expires
             */
            expiresAt?: string | null;
        };
        RotateKeypairDto: {
            /** @description Seconds the old key keeps working (0 to 30 days) */
            graceSeconds: number;
        };
        TokenDto: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            teamId: string;
            /** Format: uuid */
            userId: string;
            /** @example notebook */
            name: string;
            /**
             * @description The first characters of the token, to recognise it
             * @example gl_3f9a
             */
            prefix: string;
            /** @enum {string} */
            scope: "inference" | "management";
            /** @description null: every model */
            models: string[] | null;
            /** Format: date-time */
            expiresAt: string | null;
            /** Format: date-time */
            lastUsedAt: string | null;
            /** Format: date-time */
            revokedAt: string | null;
            /**
             * Format: uuid
             * @description The user who created it
             */
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
        };
        TokenPageDto: {
            items: components["schemas"]["TokenDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        CreateTokenDto: {
            /** @example notebook */
            name: string;
            /** @enum {string} */
            scope: "inference" | "management";
            /** @description Models the token may use (default: all) */
            models?: string[];
            /**
             * Format: date-time
             * @description ISO-8601, in the future; the token stops working then
             */
            expiresAt?: string;
            /**
             * Format: uuid
             * @description Owner (default: the caller; team admins may pick a member)
             */
            userId?: string;
            /**
             * Format: uuid
             * @description Team the token acts for (superadmin; default: the caller’s team)
             */
            teamId?: string;
        };
        NewTokenDto: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            teamId: string;
            /** Format: uuid */
            userId: string;
            /** @example notebook */
            name: string;
            /**
             * @description The first characters of the token, to recognise it
             * @example gl_3f9a
             */
            prefix: string;
            /** @enum {string} */
            scope: "inference" | "management";
            /** @description null: every model */
            models: string[] | null;
            /** Format: date-time */
            expiresAt: string | null;
            /** Format: date-time */
            lastUsedAt: string | null;
            /** Format: date-time */
            revokedAt: string | null;
            /**
             * Format: uuid
             * @description The user who created it
             */
            createdBy: string | null;
            /** Format: date-time */
            createdAt: string;
            /** @description Shown once; Gridline keeps only its hash */
            token: string;
        };
        RegisterModelDto: {
            /**
             * @description The id clients pass as `model`: letters, digits, `.` `_` `:` `-`, up to 128
             * @example llama-3.1-8b-instruct-q4
             */
            name: string;
            /**
             * @description A `file://` path under the control plane's model directories, or an `http(s)://` URL serving byte ranges; only the GGUF header is read
             * @example file:///var/lib/gridline/models/llama-3.1-8b-instruct-q4_k_m.gguf
             */
            source: string;
            /**
             * Format: uuid
             * @description The owning team (superadmins only; default: global for superadmins, the caller's team for team admins)
             */
            teamId?: string;
        };
        ModelDto: {
            /** Format: uuid */
            id: string;
            /** @example llama-3.1-8b-instruct-q4 */
            name: string;
            /**
             * Format: uuid
             * @description null: every team may use it
             */
            teamId: string | null;
            /** @description null: announced by an agent */
            source: string | null;
            /** @description The file has no weights: it validates and plans, and never deploys */
            headerOnly: boolean;
            /** @description Bytes of the file */
            sizeBytes: number;
            sha256: string | null;
            /** @example llama */
            architecture: string;
            /**
             * @description The family for filtering: the GGUF `general.basename` lower-cased, else the architecture
             * @example llama
             */
            family: string;
            /**
             * @description `general.file_type` as llama.cpp names it; null when the file does not say
             * @example Q4_K_M
             */
            quantization: string | null;
            /** @description The chat template renders tool definitions (it mentions `tools`); null when the file has no chat template or was not read by the catalog */
            toolSupport: boolean | null;
            /** @description Context the model was trained for, in tokens */
            contextLength: number | null;
            layers: number | null;
            embedding: number | null;
            /** @description Bytes of weights (the sum of the tensors) */
            parameterBytes: number;
            /** @description GPU bytes per replica an admin set in place of the estimate */
            memoryOverrideBytes: number | null;
            /** Format: date-time */
            createdAt: string;
        };
        ModelPageDto: {
            items: components["schemas"]["ModelDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        GpuShareDto: {
            /** @description Position in `gpus` */
            gpu: number;
            layers: number[] | null;
            holdsOutput: boolean;
            bytes: number;
            freeBytes: number;
        };
        GpuSplitDto: {
            fits: boolean;
            gpus: components["schemas"]["GpuShareDto"][];
            shortfallBytes?: number;
            message?: string;
        };
        RequirementsDto: {
            weightsBytes: number;
            kvCacheBytes: number;
            computeBytes: number;
            overheadBytes: number;
            totalBytes: number;
            /** @description Host memory: input embeddings, layers left on the CPU, logits */
            hostBytes: number;
            /** @description What the estimate assumed or could not model */
            notes: string[];
            model: string;
            /** @description The settings used, defaults filled in */
            settings: {
                [key: string]: unknown;
            };
            /** @description Repeating layers on GPUs */
            layers: number;
            /** @description Bytes of one layer (weights and KV cache), the largest */
            largestLayerBytes: number;
            /** @description With `gpus`: whole layers per GPU */
            split?: components["schemas"]["GpuSplitDto"];
        };
        UpdateModelDto: {
            /** @description GPU bytes per replica to plan with instead of the estimate, at any settings; null: back to the estimate */
            memoryOverrideBytes: number | null;
        };
        ModelPresetDto: {
            /** @example llama-3.1-70b */
            name: string;
            /** @example Meta-Llama-3.1-70B-Instruct */
            title: string;
            /** @example llama */
            architecture: string;
            layers: number;
            embedding: number;
            contextLength: number;
            quantizations: ("Q4_0" | "Q4_K_M" | "Q5_K_M" | "Q8_0" | "F16")[];
        };
        ModelPresetListDto: {
            items: components["schemas"]["ModelPresetDto"][];
        };
        PlanRuleDto: {
            /** @example capacity */
            rule: string;
            passed: boolean;
            /**
             * @description `plan`: its failure makes the request infeasible; `apply`: the plan stands but cannot be applied yet
             * @enum {string}
             */
            blocks: "plan" | "apply";
            /** @example insufficient GPU memory: needs 142.0 GiB, 2 nodes × 2 GPUs × 48 GiB = 192 GiB, 60.5 GiB already allocated */
            message: string;
        };
        PlannedGpuDto: {
            index: number;
            /** @description First and last layer on this GPU; null: only the fixed part */
            layers: number[] | null;
            bytes: number;
        };
        PlannedNodeDto: {
            /** Format: uuid */
            nodeId: string;
            name: string;
            gpus: components["schemas"]["PlannedGpuDto"][];
        };
        PlannedReplicaDto: {
            nodes: components["schemas"]["PlannedNodeDto"][];
        };
        MemoryBreakdownDto: {
            weightsBytes: number;
            kvCacheBytes: number;
            computeBytes: number;
            overheadBytes: number;
            totalBytes: number;
            /** @description Host memory: input embeddings, layers left on the CPU, logits */
            hostBytes: number;
            /** @description What the estimate assumed or could not model */
            notes: string[];
        };
        PlanQuotaDto: {
            /** @description GPUs the team may hold; null: no limit */
            gpus: number | null;
            /** @description GPU bytes the team may hold; null: no limit */
            gpuMemoryBytes: number | null;
            /** @description Distinct GPUs the team's other deployments are planned on */
            usedGpus: number;
            /** @description GPU bytes the team's other deployments are planned to hold */
            usedGpuMemoryBytes: number;
        };
        DeploymentPlanDto: {
            /** @description Every rule that decides feasibility passed */
            feasible: boolean;
            /** @description Feasible, and nothing keeps it from being applied */
            applicable: boolean;
            targetNodeCount: number;
            reasons: string[];
            rules: components["schemas"]["PlanRuleDto"][];
            replicas: components["schemas"]["PlannedReplicaDto"][];
            memory: components["schemas"]["MemoryBreakdownDto"];
            /** @description The owner team's quota and use before this deployment (the quota rules check this plan against it) */
            quota: components["schemas"]["PlanQuotaDto"];
            /** @description The deployment as it would be stored, for a person to review */
            yaml: string;
        };
        DeploymentConditionDto: {
            /** @enum {string} */
            type: "Pending" | "Placed" | "Loading" | "Ready" | "Degraded" | "Failed";
            status: boolean;
            reason: string;
            message: string;
            /** Format: date-time */
            at: string;
        };
        DeploymentMemberDto: {
            /** Format: uuid */
            replicaId: string;
            /**
             * @description The leader loads the model and serves its jobs; a worker holds layers on its devices through llama.cpp RPC
             * @enum {string}
             */
            role: "leader" | "worker";
            /** Format: uuid */
            nodeId: string;
            nodeName: string;
            /**
             * @description First and last layer on this node
             * @example [
             *       0,
             *       15
             *     ]
             */
            layers: number[];
            /** @description GPU memory planned on this node */
            bytes: number | null;
            /** @example Ready */
            state: string;
        };
        DeploymentReplicaStatusDto: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            nodeId: string;
            nodeName: string;
            /**
             * @description Placed (not reported yet), Pulling, Loading, Ready, Failed, Unloading, Degraded (spanning: a member lost, being replaced), or Lost (its node is)
             * @example Ready
             */
            state: string;
            reason: string | null;
            /** @description A replica spanning nodes: its leader and workers, with the layers and memory on each */
            members?: components["schemas"]["DeploymentMemberDto"][];
        };
        DeploymentStatusDto: {
            readyReplicas: number;
            /** @description Replicas wanted now: `replicas`, or for on-demand deployments what the load asks (at least `minReplicas`) */
            desiredReplicas: number;
            replicas: components["schemas"]["DeploymentReplicaStatusDto"][];
            /** Format: date-time */
            observedAt: string;
        };
        DeploymentEventDto: {
            /** Format: date-time */
            at: string;
            /**
             * @description Placed, Unschedulable, ReplicaLost, LoadFailed, MemberReplaced, Evicted, IdleUnloaded, ScaledDown, ScaledUp, Unloaded
             * @example Placed
             */
            reason: string;
            message: string;
            /** Format: uuid */
            replicaId?: string;
            /** Format: uuid */
            nodeId?: string;
        };
        DeploymentDto: {
            /** Format: uuid */
            id: string;
            name: string;
            /** Format: uuid */
            teamId: string;
            model: string;
            replicas: number;
            /** @description null: all `replicas` stay loaded */
            minReplicas: number | null;
            idleSeconds: number;
            pinned: boolean;
            runtime: {
                [key: string]: unknown;
            };
            /** @enum {string} */
            placement: "binpack" | "spread";
            resource: {
                [key: string]: unknown;
            };
            tolerations: {
                [key: string]: unknown;
            }[];
            /** @enum {string} */
            phase: "Pending" | "Placed" | "Loading" | "Ready" | "Degraded" | "Failed";
            conditions: components["schemas"]["DeploymentConditionDto"][];
            /** @description Replicas serving now */
            readyReplicas: number;
            /** @description The scheduler's latest observation; null until it has looked */
            status: components["schemas"]["DeploymentStatusDto"] | null;
            /** @description The scheduler's recent decisions and why, oldest first */
            events: components["schemas"]["DeploymentEventDto"][];
            plan?: components["schemas"]["DeploymentPlanDto"];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        RuntimeDto: {
            /**
             * @description Tokens of context per sequence
             * @default 4096
             */
            contextSize?: number;
            /**
             * @description Sequences decoded together (concurrent requests per replica)
             * @default 1
             */
            parallel?: number;
            /**
             * @default f16
             * @enum {string}
             */
            kvCacheType?: "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1";
            /** @default false */
            flashAttention?: boolean;
            /** @default 2048 */
            batchSize?: number;
            /** @default 512 */
            ubatchSize?: number;
            /** @description Layers on GPUs (default: all, plus the output layer) */
            gpuLayers?: number;
        };
        SelectorRequirementDto: {
            key: string;
            /** @enum {string} */
            operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
            values?: string[];
        };
        LabelSelectorDto: {
            /**
             * @example {
             *       "gridline.dev/gpu": "a100"
             *     }
             */
            matchLabels?: {
                [key: string]: string;
            };
            matchExpressions?: components["schemas"]["SelectorRequirementDto"][];
        };
        ResourceDto: {
            /** @description The most nodes to use; the plan uses fewer when fewer hold the model, and says why */
            count?: number;
            /**
             * @description One of GET /api/v1/instance-types
             * @example Standard_NC24ads_A100_v4
             */
            instanceType?: string;
            /** @description Node names tried first, in order */
            preferredNodes?: string[];
            labelSelector?: components["schemas"]["LabelSelectorDto"];
        };
        TolerationDto: {
            key?: string;
            /**
             * @default Equal
             * @enum {string}
             */
            operator?: "Equal" | "Exists";
            value?: string;
            /** @enum {string} */
            effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
        };
        CreateDeploymentDto: {
            /**
             * @description Lower-case letters, digits and dashes, up to 63; unique in the team
             * @example chat-8b
             */
            name: string;
            /**
             * @description A model of the catalog (GET /api/v1/models)
             * @example llama-3.1-8b-instruct-q4
             */
            model: string;
            /**
             * Format: uuid
             * @description Owner team (superadmins only; default: the caller's team)
             */
            teamId?: string;
            /** @default 1 */
            replicas?: number;
            /** @description Replicas kept loaded while no job asks for the model (default: `replicas`, all of them always). Below `replicas`, the rest load when jobs wait and unload after `idleSeconds`; 0 loads the model only on demand. */
            minReplicas?: number;
            /**
             * @description Seconds a replica above `minReplicas` may stay idle before it is unloaded
             * @default 300
             */
            idleSeconds?: number;
            /**
             * @description Pinned replicas are never evicted to make room for another model
             * @default false
             */
            pinned?: boolean;
            runtime?: components["schemas"]["RuntimeDto"];
            /**
             * @default binpack
             * @enum {string}
             */
            placement?: "binpack" | "spread";
            resource?: components["schemas"]["ResourceDto"];
            tolerations?: components["schemas"]["TolerationDto"][];
        };
        DeploymentPageDto: {
            items: components["schemas"]["DeploymentDto"][];
            /** @description Rows matching the filter, on all pages */
            total: number;
            limit: number;
            offset: number;
        };
        UpdateDeploymentDto: {
            /** @default 1 */
            replicas?: number;
            /** @description Replicas kept loaded while no job asks for the model (default: `replicas`, all of them always). Below `replicas`, the rest load when jobs wait and unload after `idleSeconds`; 0 loads the model only on demand. */
            minReplicas?: number;
            /**
             * @description Seconds a replica above `minReplicas` may stay idle before it is unloaded
             * @default 300
             */
            idleSeconds?: number;
            /**
             * @description Pinned replicas are never evicted to make room for another model
             * @default false
             */
            pinned?: boolean;
            runtime?: components["schemas"]["RuntimeDto"];
            /**
             * @default binpack
             * @enum {string}
             */
            placement?: "binpack" | "spread";
            resource?: components["schemas"]["ResourceDto"];
            tolerations?: components["schemas"]["TolerationDto"][];
        };
        InstanceTypeDto: {
            /** @example Standard_NC24ads_A100_v4 */
            name: string;
            /** @enum {string} */
            provider: "azure" | "aws" | "gcp";
            /** @example NVIDIA A100 80GB PCIe */
            gpuModel: string;
            /** @example 1 */
            gpuCount: number;
            /** @description Memory of one GPU, in bytes (the vendor's nominal figure) */
            gpuMemoryBytes: number;
        };
        InstanceTypeListDto: {
            items: components["schemas"]["InstanceTypeDto"][];
        };
        TaintDto: {
            key: string;
            value?: string;
            /** @enum {string} */
            effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
        };
        GpuDto: {
            index: number;
            name: string;
            vendor: string;
            uuid?: string | null;
            totalMemoryBytes: number;
            freeMemoryBytes: number;
            utilizationPercent?: number | null;
            temperatureC?: number | null;
            /** @description A GPU the agent pretends to have (GRIDLINE_SIMULATE_GPUS): memory is accounted, models run on the CPU */
            simulated?: boolean;
        };
        RpcEndpointDto: {
            /** @example 10.0.0.12 */
            address: string;
            /**
             * @description First and last port the control plane may assign
             * @example [
             *       7400,
             *       7499
             *     ]
             */
            ports: number[];
        };
        InventoryDto: {
            agentVersion: string;
            /** @example cuda */
            backend: string;
            llamaCppVersion: string | null;
            gpus: components["schemas"]["GpuDto"][];
            cpuCores: number;
            totalMemoryBytes: number;
            freeMemoryBytes: number;
            diskFreeBytes: number | null;
            capabilities: string[];
            /** @description sha256 of the complete model files in the node store */
            storedModels?: string[];
            /** @description Where the node's replica-group tunnels listen (nodes that can run spanning replicas) */
            rpc?: components["schemas"]["RpcEndpointDto"];
            platform: string;
            arch: string;
        };
        JoinDto: {
            /** @description The join token an admin created */
            token: string;
            /** @example gpu-01 */
            nodeName: string;
            labels: {
                [key: string]: string;
            };
            taints: components["schemas"]["TaintDto"][];
            inventory: components["schemas"]["InventoryDto"];
        };
        JoinReplyDto: {
            /** Format: uuid */
            nodeId: string;
            /** @description The node credential: signs every later request; shown once */
            accessKey: string;
            secretKey: string;
            /** @example Pending */
            status: string;
            heartbeatIntervalSeconds: number;
        };
        ReplicaReportDto: {
            id: string;
            model: string;
            sha256: string | null;
            /** @enum {string} */
            origin: "local" | "control-plane";
            /** @enum {string} */
            state: "Pulling" | "Loading" | "Ready" | "Failed" | "Unloading";
            reason: string | null;
            parallel: number;
            busySequences: number;
            queueDepth: number;
            tokensPerSecond: number | null;
            gpuLayers: number | null;
            totalLayers: number | null;
            gpuIndexes: number[];
            pid: number | null;
            memory: {
                [key: string]: unknown;
            } | null;
            pull: {
                [key: string]: unknown;
            } | null;
            announcement?: {
                [key: string]: unknown;
            };
            /** @description Failed while serving: the agent starts it again after a pause */
            restarting?: boolean;
            /** @description A member of a spanning replica: its group and role */
            group?: {
                [key: string]: unknown;
            };
            /** @description A leader's load: layers on this node and on each worker */
            span?: {
                [key: string]: unknown;
            };
        };
        RunningJobDto: {
            /** Format: uuid */
            jobId: string;
            attempt: number;
            /** @description The replica running it */
            replicaId?: string;
        };
        LoadReportDto: {
            /** Format: uuid */
            loadId: string;
            replicaId: string | null;
            model: string;
            /** @enum {string} */
            outcome: "loaded" | "failed";
            reason: string | null;
            estimateBytes: number | null;
            gpuBytes: number | null;
            cpuBytes: number | null;
            gpuLayers: number | null;
            loadMs: number | null;
        };
        HeartbeatDto: {
            /**
             * Format: uuid
             * @description Must be the node the credential belongs to
             */
            nodeId: string;
            inventory: components["schemas"]["InventoryDto"];
            replicas: components["schemas"]["ReplicaReportDto"][];
            runningJobs: components["schemas"]["RunningJobDto"][];
            loads: components["schemas"]["LoadReportDto"][];
            shuttingDown: boolean;
        };
        ReplicaSpecDto: {
            /** Format: uuid */
            id: string;
            model: string;
            /** Format: uuid */
            modelId: string;
            sha256: string;
            sizeBytes: number;
            settings: {
                [key: string]: unknown;
            };
            estimateBytes: number | null;
            /** @description Its part in a replica spanning nodes */
            group?: {
                [key: string]: unknown;
            };
        };
        HeartbeatReplyDto: {
            /** Format: uuid */
            nodeId: string;
            status: string;
            reason: string | null;
            heartbeatIntervalSeconds: number;
            schedulable: boolean;
            replicas: components["schemas"]["ReplicaSpecDto"][];
        };
        CreateJoinTokenDto: {
            /** @example rack 4, December */
            description?: string;
            /**
             * @description Seconds until the token expires (60 s to 30 days)
             * @default 86400
             */
            ttlSeconds?: number;
            /**
             * @description Joins allowed (1: single use); null for any number until it expires
             * @default 1
             */
            maxUses?: number | null;
            /**
             * @description Approve nodes joining with it at once instead of leaving them Pending
             * @default false
             */
            autoApprove?: boolean;
            /** @description Labels every node joining with it gets */
            labels?: {
                [key: string]: string;
            };
        };
        CreatedJoinTokenDto: {
            /** Format: uuid */
            id: string;
            /**
             * @description The first characters of the token, to recognise it
             * @example gljt_Ab3x
             */
            prefix: string;
            description: string;
            /** Format: date-time */
            expiresAt: string;
            maxUses: number | null;
            uses: number;
            autoApprove: boolean;
            labels: {
                [key: string]: string;
            };
            /** Format: date-time */
            revokedAt: string | null;
            /** @enum {string} */
            state: "active" | "expired" | "revoked" | "used";
            /** Format: date-time */
            createdAt: string;
            /** @description The token: shown once, never stored */
            token: string;
            /** @description What to run on the GPU host */
            installCommand: string;
        };
        JoinTokenDto: {
            /** Format: uuid */
            id: string;
            /**
             * @description The first characters of the token, to recognise it
             * @example gljt_Ab3x
             */
            prefix: string;
            description: string;
            /** Format: date-time */
            expiresAt: string;
            maxUses: number | null;
            uses: number;
            autoApprove: boolean;
            labels: {
                [key: string]: string;
            };
            /** Format: date-time */
            revokedAt: string | null;
            /** @enum {string} */
            state: "active" | "expired" | "revoked" | "used";
            /** Format: date-time */
            createdAt: string;
        };
        JoinTokenListDto: {
            items: components["schemas"]["JoinTokenDto"][];
        };
        NodeInventoryDto: {
            agentVersion: string;
            backend: string;
            llamaCppVersion: string | null;
            cpuCores: number;
            totalMemoryBytes: number;
            freeMemoryBytes: number;
            diskFreeBytes: number | null;
            capabilities: string[];
            platform: string;
            arch: string;
            queueDepth: number;
            tokensPerSecond: number | null;
        };
        ReplicaMemoryDto: {
            /** @description What the control plane planned */
            estimateBytes: number | null;
            /** @description What the load took on the GPUs */
            gpuBytes: number;
            /** @description What the load took in host memory */
            cpuBytes: number;
        };
        PullDto: {
            bytes: number;
            totalBytes: number;
            percent: number;
            bytesPerSecond: number;
        };
        ReplicaDto: {
            id: string;
            model: string;
            /** @enum {string} */
            origin: "local" | "control-plane";
            /**
             * @description What the control plane wants
             * @enum {string}
             */
            desired: "Loaded" | "Unloaded";
            /**
             * @description What the agent last reported (Pending: not reported yet)
             * @enum {string}
             */
            state: "Pending" | "Pulling" | "Loading" | "Ready" | "Failed" | "Unloading";
            reason: string | null;
            settings: {
                [key: string]: unknown;
            } | null;
            parallel: number;
            busySequences: number;
            queueDepth: number;
            tokensPerSecond: number | null;
            gpuLayers: number | null;
            totalLayers: number | null;
            gpuIndexes: number[];
            /** @description The runner process serving it */
            pid: number | null;
            memory: components["schemas"]["ReplicaMemoryDto"] | null;
            pull: components["schemas"]["PullDto"] | null;
            /** @description A member of a replica spanning nodes: its group id and role (leader or worker) */
            group?: {
                [key: string]: unknown;
            };
            /** @description A spanning replica's leader: layers llama.cpp put on this node, and on each worker */
            span?: {
                [key: string]: unknown;
            };
        };
        RunningJobViewDto: {
            /** Format: uuid */
            jobId: string;
            attempt: number;
            replicaId?: string;
        };
        NodeDto: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @enum {string} */
            status: "Pending" | "Ready" | "NotReady" | "Lost" | "Draining" | "Drained" | "Cordoned";
            /** @example no heartbeat for 21 s */
            reason: string | null;
            approved: boolean;
            cordoned: boolean;
            draining: boolean;
            revoked: boolean;
            /** @description Whether new jobs and replicas may go to the node now */
            schedulable: boolean;
            labels: {
                [key: string]: string;
            };
            taints: components["schemas"]["TaintDto"][];
            gpus: components["schemas"]["GpuDto"][];
            inventory: components["schemas"]["NodeInventoryDto"];
            replicas: components["schemas"]["ReplicaDto"][];
            /** @description Jobs in flight on the node, as its last heartbeat listed them */
            runningJobs: components["schemas"]["RunningJobViewDto"][];
            /** Format: date-time */
            lastHeartbeatAt: string;
            /** Format: date-time */
            registeredAt: string;
        };
        NodeListDto: {
            items: components["schemas"]["NodeDto"][];
        };
        ModelLoadDto: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            nodeId: string;
            replicaId: string | null;
            model: string;
            /** @enum {string} */
            outcome: "loaded" | "failed";
            reason: string | null;
            /** @description Memory the control plane planned */
            estimateBytes: number | null;
            /** @description Memory the load took on the GPUs */
            gpuBytes: number | null;
            /** @description Memory the load took in host memory */
            cpuBytes: number | null;
            gpuLayers: number | null;
            loadMs: number | null;
            /** Format: date-time */
            at: string;
        };
        ModelLoadListDto: {
            items: components["schemas"]["ModelLoadDto"][];
        };
        UpdateNodeDto: {
            /** @description Replaces the labels */
            labels?: {
                [key: string]: string;
            };
            /** @description Replaces the taints */
            taints?: components["schemas"]["TaintDto"][];
        };
        CreateReplicaDto: {
            /**
             * @description A catalog model with a file the control plane serves
             * @example llama-3.1-8b-q4
             */
            model: string;
            /** @default 4096 */
            contextSize?: number;
            /**
             * @description Parallel sequences (the context is shared among them)
             * @default 4
             */
            parallel?: number;
            /**
             * @description Layers on the GPU: a number, auto or max
             * @default auto
             */
            gpuLayers?: number | ("auto" | "max");
            /**
             * @description CPU threads; 0 lets llama.cpp choose
             * @default 0
             */
            threads?: number;
        };
        QuotaLimitValuesDto: {
            maxConcurrentJobs: number | null;
            maxQueuedJobs: number | null;
            requestsPerMinute: number | null;
            tokensPerMinute: number | null;
            tokensPerDay: number | null;
        };
        QuotaUsageDto: {
            /** @description Concurrency slots held now */
            concurrentJobs: number | null;
            /** @description Queue places held now */
            queuedJobs: number | null;
            /** @description Requests admitted in the current UTC minute */
            requestsThisMinute: number | null;
            /** @description Tokens charged in the current UTC minute (reservations in flight included) */
            tokensThisMinute: number | null;
            /** @description Tokens charged in the current UTC day (reservations in flight included) */
            tokensToday: number | null;
        };
        KeyQuotaDto: {
            /** @enum {string} */
            kind: "keypair" | "token";
            /** Format: uuid */
            id: string;
            limits: components["schemas"]["QuotaLimitValuesDto"];
            /** @description null when Redis could not be read */
            usage: components["schemas"]["QuotaUsageDto"] | null;
        };
        ModelQuotaDto: {
            model: string;
            limits: components["schemas"]["QuotaLimitValuesDto"];
            /** @description null when Redis could not be read */
            usage: components["schemas"]["QuotaUsageDto"] | null;
        };
        TeamQuotasDto: {
            /** Format: uuid */
            teamId: string;
            /** @description The team's own limits; null: none */
            limits: components["schemas"]["QuotaLimitValuesDto"] | null;
            /** @description The team's use of its own limits; null when it has none or Redis could not be read */
            usage: components["schemas"]["QuotaUsageDto"] | null;
            keys: components["schemas"]["KeyQuotaDto"][];
            models: components["schemas"]["ModelQuotaDto"][];
        };
        QuotaLimitsDto: {
            /** @description Jobs in flight at once (synchronous requests while they run; asynchronous jobs from submission to their end). null or left out: no limit */
            maxConcurrentJobs?: number | null;
            /** @description Asynchronous jobs waiting to start. null or left out: no limit */
            maxQueuedJobs?: number | null;
            /** @description Requests admitted per UTC minute. null or left out: no limit */
            requestsPerMinute?: number | null;
            /** @description Prompt and completion tokens per UTC minute (reserved at admission, settled at the end). null or left out: no limit */
            tokensPerMinute?: number | null;
            /** @description Prompt and completion tokens per UTC day. null or left out: no limit */
            tokensPerDay?: number | null;
        };
        KeyQuotaInputDto: {
            /**
             * @description A keypair or an API token of the team
             * @enum {string}
             */
            kind: "keypair" | "token";
            /**
             * Format: uuid
             * @description The keypair's or the token's id
             */
            id: string;
            limits: components["schemas"]["QuotaLimitsDto"];
        };
        ModelQuotaInputDto: {
            /**
             * @description A model the team may use
             * @example llama-3.2-1b
             */
            model: string;
            limits: components["schemas"]["QuotaLimitsDto"];
        };
        PutTeamQuotasDto: {
            /** @description The team's own limits: every request of the team counts */
            limits?: components["schemas"]["QuotaLimitsDto"] | null;
            /** @description Per key: the requests made with that keypair or token count (besides the team's) */
            keys?: components["schemas"]["KeyQuotaInputDto"][];
            /** @description Per model: the team's requests for that model count (besides the team's) */
            models?: components["schemas"]["ModelQuotaInputDto"][];
        };
        QueueBoardSessionDto: {
            /**
             * @description Where the board is served; open it in the same browser
             * @example /admin/queues
             */
            url: string;
            /**
             * @description The session cookie (HttpOnly, SameSite=Strict, Secure over https)
             * @example gl_queue_board
             */
            cookie: string;
            /**
             * @description The cookie's path: it is sent to the board only
             * @example /admin/queues
             */
            cookiePath: string;
            /**
             * Format: date-time
             * @description When the session ends (ten minutes after it was opened); open a new one then
             */
            expiresAt: string;
        };
        ProblemDto: {
            /**
             * @description A URI naming the code
             * @example https://gridline.dev/errors/not_found
             */
            type: string;
            /**
             * @description The code's title, the same for every occurrence
             * @example Not found
             */
            title: string;
            /** @example 404 */
            status: number;
            /**
             * @description This occurrence; quotes no more than a short prefix of the input
             * @example team '0b5f…' was not found
             */
            detail: string;
            /** @description Stable code from the API error catalogue */
            code: components["schemas"]["ApiErrorCode"];
            /**
             * @description The request field (or path or query parameter) the error is about
             * @example expiresAt
             */
            param?: string;
            /** @description The request id, also in the x-request-id header */
            requestId: string;
        };
        OpenAiErrorDto: {
            /** @example The model 'gpt-5' does not exist */
            message: string;
            /** @enum {string} */
            type: "invalid_request_error" | "authentication_error" | "permission_error" | "rate_limit_error" | "api_error";
            /** @example model */
            param: string | null;
            code: components["schemas"]["ApiErrorCode"];
        };
        ErrorResponseDto: {
            error: components["schemas"]["OpenAiErrorDto"];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    HealthController_healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LivenessDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text";
                    };
                };
            };
        };
    };
    HealthController_readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Postgres and Redis are reachable */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReadinessDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text";
                    };
                };
            };
            /** @description Codes: `not_ready` (Not ready). A dependency did not answer within 2 s; `checks` names which */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NotReadyProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_ready";
                    };
                };
            };
        };
    };
    ChatCompletionsController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateChatCompletionDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChatCompletionResponseDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `unsupported_parameter` (Unsupported parameter), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header), `invalid_request` (The request is invalid), `context_length_exceeded` (The prompt and the completion do not fit in the model context) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "invalid_json" | "validation_failed" | "unsupported_parameter" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version" | "invalid_request" | "context_length_exceeded";
                        };
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                        };
                    };
                };
            };
            /** @description Codes: `model_not_allowed` (Model not allowed) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "model_not_allowed";
                        };
                    };
                };
            };
            /** @description Codes: `model_not_found` (The model does not exist) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "model_not_found";
                        };
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "unsupported_media_type";
                        };
                    };
                };
            };
            /** @description Codes: `rate_limit_exceeded` (Rate limit exceeded) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "rate_limit_exceeded";
                        };
                    };
                };
            };
            /** @description Codes: `node_lost` (The node running the job stopped responding), `runner_crashed` (The model process exited while running the job), `generation_failed` (The model failed to generate) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "node_lost" | "runner_crashed" | "generation_failed";
                        };
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable), `redis_memory_full` (Redis memory full), `no_capacity` (No replica of the model could take the job in time) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "redis_unavailable" | "redis_memory_full" | "no_capacity";
                        };
                    };
                };
            };
            /** @description Codes: `timeout` (The job did not finish in time) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "timeout";
                        };
                    };
                };
            };
        };
    };
    ChatCompletionsController_complete: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateCompletionDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CompletionResponseDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `unsupported_parameter` (Unsupported parameter), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header), `invalid_request` (The request is invalid), `context_length_exceeded` (The prompt and the completion do not fit in the model context) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "invalid_json" | "validation_failed" | "unsupported_parameter" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version" | "invalid_request" | "context_length_exceeded";
                        };
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                        };
                    };
                };
            };
            /** @description Codes: `model_not_allowed` (Model not allowed) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "model_not_allowed";
                        };
                    };
                };
            };
            /** @description Codes: `model_not_found` (The model does not exist) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "model_not_found";
                        };
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "payload_too_large";
                        };
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "unsupported_media_type";
                        };
                    };
                };
            };
            /** @description Codes: `rate_limit_exceeded` (Rate limit exceeded) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "rate_limit_exceeded";
                        };
                    };
                };
            };
            /** @description Codes: `node_lost` (The node running the job stopped responding), `runner_crashed` (The model process exited while running the job), `generation_failed` (The model failed to generate) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "node_lost" | "runner_crashed" | "generation_failed";
                        };
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable), `redis_memory_full` (Redis memory full), `no_capacity` (No replica of the model could take the job in time) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "redis_unavailable" | "redis_memory_full" | "no_capacity";
                        };
                    };
                };
            };
            /** @description Codes: `timeout` (The job did not finish in time) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "timeout";
                        };
                    };
                };
            };
        };
    };
    ModelsController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                        };
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                        };
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "redis_unavailable";
                        };
                    };
                };
            };
        };
    };
    ModelsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                model: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OpenAiModelDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                        };
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                        };
                    };
                };
            };
            /** @description Codes: `model_not_found` (The model does not exist) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "model_not_found";
                        };
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponseDto"] & {
                        error?: {
                            /** @enum {string} */
                            code?: "redis_unavailable";
                        };
                    };
                };
            };
        };
    };
    JobsController_list: {
        parameters: {
            query?: {
                limit?: number;
                status?: "queued" | "dispatched" | "running" | "succeeded" | "failed" | "cancelled" | "expired";
                model?: string;
                /** @description Superadmins: one team's jobs only (others always see their own team's) */
                teamId?: string;
                /** @description `next_cursor` of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobListDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `invalid_cursor` (Invalid cursor), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "invalid_cursor" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    JobsController_create: {
        parameters: {
            query?: never;
            header?: {
                /** @description A retried submit with the same key returns the first job; the same key with another body is 409 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateJobDto"];
            };
        };
        responses: {
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `unsupported_parameter` (Unsupported parameter), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "unsupported_parameter" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `model_not_allowed` (Model not allowed) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "model_not_allowed";
                    };
                };
            };
            /** @description Codes: `model_not_found` (The model does not exist) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_not_found";
                    };
                };
            };
            /** @description Codes: `idempotency_key_reused` (Idempotency key reused) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "idempotency_key_reused";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `rate_limit_exceeded` (Rate limit exceeded) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "rate_limit_exceeded";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable), `redis_memory_full` (Redis memory full) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable" | "redis_memory_full";
                    };
                };
            };
        };
    };
    JobsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    JobsController_cancel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsageController_get: {
        parameters: {
            query?: {
                /** @description Jobs created at or after this time; default: 30 days before `to` */
                from?: string;
                /** @description Jobs created before this time; default: now */
                to?: string;
                /** @description Comma-separated, of team, model, key, user, day, endpoint; default team,model,day */
                groupBy?: string;
                /** @description Superadmins: one team only (team admins always see their own) */
                teamId?: string;
                /** @description csv: one line per group, a header line first */
                format?: "json" | "csv";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UsageDto"];
                    "text/csv": components["schemas"]["UsageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateEndpointDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `endpoint_exists` (Endpoint exists) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "endpoint_exists";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `endpoint_credential_refused` (Endpoint refused the credential), `endpoint_unreachable` (Endpoint unreachable), `endpoint_incompatible` (Endpoint incompatible) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "endpoint_credential_refused" | "endpoint_unreachable" | "endpoint_incompatible";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateEndpointDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `endpoint_credential_refused` (Endpoint refused the credential), `endpoint_unreachable` (Endpoint unreachable), `endpoint_incompatible` (Endpoint incompatible) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "endpoint_credential_refused" | "endpoint_unreachable" | "endpoint_incompatible";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_refresh: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    EndpointsController_updateModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                remoteModel: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateEndpointModelDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointModelDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    FallbacksController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FallbackListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    FallbacksController_set: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                model: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FallbackChainDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FallbackDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    FallbacksController_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                model: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    WhoamiController_whoami: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WhoamiDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    AuditController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
                action?: string;
                actorUserId?: string;
                /** @description ISO-8601 */
                since?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TeamsController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
                /** @description Part of the name */
                name?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TeamPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TeamsController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTeamDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TeamDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `team_exists` (Team exists) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "team_exists";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TeamsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TeamDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TeamsController_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted, with its memberships, keypairs, tokens and jobs */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TeamsController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateTeamDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TeamDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `team_exists` (Team exists) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "team_exists";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    MembersController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MembershipPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    MembersController_set: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SetMembershipDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MembershipRoleDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    MembersController_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user is no longer a member of the team */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsersController_me: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MeDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsersController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
                /** @description Part of the e-mail address */
                email?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsersController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateUserDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `email_taken` (E-mail taken) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "email_taken";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsersController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsersController_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted, with its memberships, keypairs and tokens */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    UsersController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateUserDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    KeypairsController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
                userId?: string;
                active?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeypairPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    KeypairsController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateKeypairDto"];
            };
        };
        responses: {
            /** @description The keypair, with its secret (shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NewKeypairDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    KeypairsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                accessKey: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeypairDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    KeypairsController_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                accessKey: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; the key stops working within a second */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    KeypairsController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                accessKey: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateKeypairDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeypairDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    KeypairsController_rotate: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                accessKey: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RotateKeypairDto"];
            };
        };
        responses: {
            /** @description The new keypair, with its secret (shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NewKeypairDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TokensController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
                userId?: string;
                includeRevoked?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TokensController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTokenDto"];
            };
        };
        responses: {
            /** @description The token record, with the token itself (shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NewTokenDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TokensController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    TokensController_revoke: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked; the token stops working within a second */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_register: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterModelDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header), `invalid_model_source` (Invalid model source) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version" | "invalid_model_source";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `model_exists` (Model exists) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_exists";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `model_source_unreachable` (Model source unreachable), `invalid_model_file` (Invalid model file) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_source_unreachable" | "invalid_model_file";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed from the catalog */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateModelDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_download: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The GGUF file (206 with a Range header) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `model_not_deployable` (Model not deployable) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_not_deployable";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_upload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `model_exists` (Model exists) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_exists";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `invalid_model_file` (Invalid model file) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_model_file";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelCatalogController_requirements: {
        parameters: {
            query?: {
                /** @description Tokens of context per sequence */
                contextSize?: number;
                parallel?: number;
                kvCacheType?: "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1";
                flashAttention?: boolean;
                batchSize?: number;
                ubatchSize?: number;
                /** @description Layers on GPUs (default: all, plus the output layer) */
                gpuLayers?: number;
                /** @description Free GiB of each GPU to split the layers over (whole layers per GPU) */
                gpus?: string;
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RequirementsDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `model_shape_unknown` (Model shape unknown) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_shape_unknown";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelPresetsController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelPresetListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    ModelPresetsController_requirements: {
        parameters: {
            query: {
                /** @description Tokens of context per sequence */
                contextSize?: number;
                parallel?: number;
                kvCacheType?: "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1";
                flashAttention?: boolean;
                batchSize?: number;
                ubatchSize?: number;
                /** @description Layers on GPUs (default: all, plus the output layer) */
                gpuLayers?: number;
                /** @description Free GiB of each GPU to split the layers over (whole layers per GPU) */
                gpus?: string;
                quantization: "Q4_0" | "Q4_K_M" | "Q5_K_M" | "Q8_0" | "F16";
            };
            header?: never;
            path: {
                preset: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RequirementsDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    DeploymentsController_list: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeploymentPageDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    DeploymentsController_create: {
        parameters: {
            query?: {
                /** @description Return the plan without applying it */
                dryRun?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateDeploymentDto"];
            };
        };
        responses: {
            /** @description The plan (dry run) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeploymentPlanDto"];
                };
            };
            /** @description The deployment, stored with its plan */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeploymentDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found), `model_not_found` (The model does not exist) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found" | "model_not_found";
                    };
                };
            };
            /** @description Codes: `deployment_exists` (Deployment exists) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "deployment_exists";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `model_shape_unknown` (Model shape unknown), `deployment_infeasible` (Deployment infeasible), `deployment_not_applicable` (Deployment not applicable yet) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_shape_unknown" | "deployment_infeasible" | "deployment_not_applicable";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    DeploymentsController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeploymentDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    DeploymentsController_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; the scheduler unloads its replicas */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    DeploymentsController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateDeploymentDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeploymentDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin or team_admin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `model_shape_unknown` (Model shape unknown), `deployment_infeasible` (Deployment infeasible), `deployment_not_applicable` (Deployment not applicable yet) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_shape_unknown" | "deployment_infeasible" | "deployment_not_applicable";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    InstanceTypesController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InstanceTypeListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    AgentController_join: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["JoinDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JoinReplyDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long";
                    };
                };
            };
            /** @description Codes: `join_token_invalid` (Invalid join token), `join_token_expired` (Join token expired), `join_token_revoked` (Join token revoked), `join_token_used` (Join token used up) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "join_token_invalid" | "join_token_expired" | "join_token_revoked" | "join_token_used";
                    };
                };
            };
            /** @description Codes: `node_revoked` (Node revoked) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "node_revoked";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
        };
    };
    AgentController_heartbeat: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["HeartbeatDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HeartbeatReplyDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Codes: `node_revoked` (Node revoked), `node_mismatch` (Not this node) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "node_revoked" | "node_mismatch";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    AgentController_file: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The GGUF file (206 with a Range header) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `model_not_deployable` (Model not deployable) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_not_deployable";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    JoinTokensController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JoinTokenListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    JoinTokensController_create: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateJoinTokenDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedJoinTokenDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    JoinTokensController_revoke: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JoinTokenDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_list: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeListDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_loads: {
        parameters: {
            query?: {
                nodeId?: string;
                model?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelLoadListDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_remove: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `node_not_removable` (Node not removable) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "node_not_removable";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_update: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateNodeDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_approve: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden), `node_revoked` (Node revoked) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden" | "node_revoked";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_cordon: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_uncordon: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_drain: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_revoke: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NodeDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_addReplica: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateReplicaDto"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReplicaDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `model_not_deployable` (Model not deployable), `node_not_schedulable` (Node not schedulable) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "model_not_deployable" | "node_not_schedulable";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    NodesController_removeReplica: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                replicaId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Being unloaded */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    QuotasController_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TeamQuotasDto"];
                };
            };
            /** @description Codes: `validation_failed` (Validation failed), `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "validation_failed" | "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    QuotasController_put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PutTeamQuotasDto"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TeamQuotasDto"];
                };
            };
            /** @description Codes: `invalid_json` (Invalid JSON), `validation_failed` (Validation failed), `invalid_text` (Invalid text), `nesting_too_deep` (Nesting too deep), `too_many_keys` (Too many keys), `too_many_items` (Too many items), `string_too_long` (String too long), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_json" | "validation_failed" | "invalid_text" | "nesting_too_deep" | "too_many_keys" | "too_many_items" | "string_too_long" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `not_found` (Not found), `model_not_found` (The model does not exist) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "not_found" | "model_not_found";
                    };
                };
            };
            /** @description Codes: `payload_too_large` (Payload too large) */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "payload_too_large";
                    };
                };
            };
            /** @description Codes: `unsupported_media_type` (Unsupported media type) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "unsupported_media_type";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    QueueBoardController_open: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QueueBoardSessionDto"];
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    QueueBoardController_close: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description Missing, invalid, expired or replayed credentials. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token";
                    };
                };
            };
            /** @description Requires the superadmin role, and a keypair or a management-scope token. Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    QueueBoard_page: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The board (HTML) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description No session cookie and no credential, or a session cookie altered or expired. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token), `queue_board_session_invalid` (Invalid queue board session), `queue_board_session_expired` (Queue board session expired) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token" | "queue_board_session_invalid" | "queue_board_session_expired";
                    };
                };
            };
            /** @description Requires the superadmin role (and, for a token, the management scope). Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
    QueueBoard_queues: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description bull-board's queue list */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        queues?: {
                            name?: string;
                        }[];
                    };
                };
            };
            /** @description Codes: `invalid_text` (Invalid text), `malformed_authorization` (Malformed Authorization header), `unsupported_sign_method` (Unsupported signing method), `date_sync_error` (Date/time sync error), `missing_version` (Missing X-BackendAI-Version header) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "invalid_text" | "malformed_authorization" | "unsupported_sign_method" | "date_sync_error" | "missing_version";
                    };
                };
            };
            /** @description No session cookie and no credential, or a session cookie altered or expired. Codes: `authentication_required` (Authentication required), `signature_mismatch` (Signature mismatch), `replayed_request` (Replayed request), `invalid_token` (Invalid or expired token), `queue_board_session_invalid` (Invalid queue board session), `queue_board_session_expired` (Queue board session expired) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "authentication_required" | "signature_mismatch" | "replayed_request" | "invalid_token" | "queue_board_session_invalid" | "queue_board_session_expired";
                    };
                };
            };
            /** @description Requires the superadmin role (and, for a token, the management scope). Codes: `insufficient_scope` (Insufficient token scope), `forbidden` (Forbidden) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "insufficient_scope" | "forbidden";
                    };
                };
            };
            /** @description Codes: `redis_unavailable` (Redis unavailable) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDto"] & {
                        /** @enum {string} */
                        code?: "redis_unavailable";
                    };
                };
            };
        };
    };
}
