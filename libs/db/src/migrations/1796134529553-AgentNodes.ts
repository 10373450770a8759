import { MigrationInterface, QueryRunner } from "typeorm";

export class AgentNodes1796134529553 implements MigrationInterface {
    name = 'AgentNodes1796134529553'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "join_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "prefix" text NOT NULL, "token_hash" text NOT NULL, "description" text NOT NULL DEFAULT '', "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "max_uses" integer, "uses" integer NOT NULL DEFAULT '0', "auto_approve" boolean NOT NULL DEFAULT false, "labels" jsonb NOT NULL DEFAULT '{}', "revoked_at" TIMESTAMP WITH TIME ZONE, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_490b3fdc19d496307571b0f5c6c" UNIQUE ("token_hash"), CONSTRAINT "PK_9986420251c0e0c4ce2b008388f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "model_loads" ("id" uuid NOT NULL, "node_id" uuid NOT NULL, "replica_id" uuid, "model_name" text NOT NULL, "outcome" text NOT NULL, "reason" text, "estimate_bytes" bigint, "gpu_bytes" bigint, "cpu_bytes" bigint, "gpu_layers" integer, "load_ms" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5e2a557d8fa696fdead848b0ccf" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_f962780924f0f8e9fb8bff65d3" ON "model_loads" ("node_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_5fe33c148359f13520c68b88dd" ON "model_loads" ("model_name", "created_at") `);
        await queryRunner.query(`CREATE TABLE "replicas" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "node_id" uuid NOT NULL, "model_id" uuid, "model_name" text NOT NULL, "settings" jsonb NOT NULL, "estimate_bytes" bigint, "desired" text NOT NULL DEFAULT 'Loaded', "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6587a2c44763909278f24ae9357" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_b081e062ad64bd4dc8d0ea4536" ON "replicas" ("node_id") `);
        // What nodes serve is in their replica reports now.
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "loaded_models"`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "approved" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "cordoned" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "draining" boolean NOT NULL DEFAULT false`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "labels" jsonb NOT NULL DEFAULT '{}'`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "taints" jsonb NOT NULL DEFAULT '[]'`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "access_key" text`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD CONSTRAINT "UQ_4b00bcf06a31bae4579589dfe63" UNIQUE ("access_key")`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "secret_sealed" text`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "revoked_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "join_token_id" uuid`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "inventory" jsonb NOT NULL DEFAULT '{}'`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "replica_reports" jsonb NOT NULL DEFAULT '[]'`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "running_jobs" jsonb NOT NULL DEFAULT '[]'`);
        await queryRunner.query(`ALTER TABLE "nodes" ALTER COLUMN "status" SET DEFAULT 'Pending'`);
        // Nodes that registered before join tokens existed were admitted by registering: they stay admitted.
        await queryRunner.query(`UPDATE "nodes" SET "approved" = true`);
        await queryRunner.query(`ALTER TABLE "replicas" ADD CONSTRAINT "FK_b081e062ad64bd4dc8d0ea45364" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "replicas" DROP CONSTRAINT "FK_b081e062ad64bd4dc8d0ea45364"`);
        await queryRunner.query(`ALTER TABLE "nodes" ALTER COLUMN "status" SET DEFAULT 'NotReady'`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "running_jobs"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "replica_reports"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "inventory"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "join_token_id"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "revoked_at"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "secret_sealed"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP CONSTRAINT "UQ_4b00bcf06a31bae4579589dfe63"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "access_key"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "taints"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "labels"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "draining"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "cordoned"`);
        await queryRunner.query(`ALTER TABLE "nodes" DROP COLUMN "approved"`);
        await queryRunner.query(`ALTER TABLE "nodes" ADD "loaded_models" jsonb NOT NULL DEFAULT '[]'`);
        await queryRunner.query(`DROP INDEX "public"."IDX_b081e062ad64bd4dc8d0ea4536"`);
        await queryRunner.query(`DROP TABLE "replicas"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_5fe33c148359f13520c68b88dd"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_f962780924f0f8e9fb8bff65d3"`);
        await queryRunner.query(`DROP TABLE "model_loads"`);
        await queryRunner.query(`DROP TABLE "join_tokens"`);
    }

}
