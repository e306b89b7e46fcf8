SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
CREATE TYPE public.status AS ENUM (
    'CREATED',
    'ASSIGNED',
    'COMPLETED',
    'RUNNING',
    'FAILED',
    'NOT_FINISHED'
);
CREATE TYPE public.videoprocessingstatus AS ENUM (
    'CREATED',
    'RUNNING',
    'COMPLETED',
    'FAILED'
);
SET default_tablespace = '';
SET default_table_access_method = heap;
CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);
CREATE TABLE public.caption (
    id integer NOT NULL,
    model character varying NOT NULL,
    frame_id integer NOT NULL,
    caption character varying NOT NULL,
    "timestamp" double precision NOT NULL,
    caption_type character varying NOT NULL,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
COMMENT ON COLUMN public.caption.model IS 'Name of model used to generate the caption';
COMMENT ON COLUMN public.caption.frame_id IS 'The 0-based frame id of video for caption';
COMMENT ON COLUMN public.caption.caption IS 'Frame caption';
COMMENT ON COLUMN public.caption."timestamp" IS 'Frame timestamp in seconds';
COMMENT ON COLUMN public.caption.caption_type IS 'The type of caption';
COMMENT ON COLUMN public.caption.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN public.caption.updated_at IS 'Timestamp when row is updated';
CREATE SEQUENCE public.caption_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.caption_id_seq OWNED BY public.caption.id;
CREATE TABLE public.extended_video (
    id character varying(36) NOT NULL,
    duration double precision,
    status public.videoprocessingstatus NOT NULL
);
COMMENT ON COLUMN public.extended_video.duration IS 'Video duration in seconds';
COMMENT ON COLUMN public.extended_video.status IS 'Processing status';
CREATE TABLE public.media (
    id character varying(36) NOT NULL,
    media_type character varying NOT NULL,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
COMMENT ON COLUMN public.media.id IS 'Unique identifier for the media';
COMMENT ON COLUMN public.media.media_type IS 'The type of media';
COMMENT ON COLUMN public.media.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN public.media.updated_at IS 'Timestamp when row is updated';
CREATE TABLE public.tasks (
    id uuid NOT NULL,
    endpoint character varying NOT NULL,
    data bytea NOT NULL,
    status public.status NOT NULL,
    priority integer NOT NULL,
    assigned_at timestamp with time zone,
    completed_at timestamp with time zone,
    progress double precision NOT NULL,
    result json,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    num_retries integer DEFAULT 0 NOT NULL,
    user_id character varying
);
COMMENT ON COLUMN public.tasks.id IS 'Task ID';
COMMENT ON COLUMN public.tasks.endpoint IS 'The endpoint to which the task is assigned';
COMMENT ON COLUMN public.tasks.data IS 'Data for the task';
COMMENT ON COLUMN public.tasks.status IS 'Status of the task';
COMMENT ON COLUMN public.tasks.priority IS 'Priority of the task (0 is the lowest)';
COMMENT ON COLUMN public.tasks.assigned_at IS 'Timestamp when the task was assigned';
COMMENT ON COLUMN public.tasks.completed_at IS 'Timestamp when the task was completed';
COMMENT ON COLUMN public.tasks.progress IS 'Progress of the task in percentage';
COMMENT ON COLUMN public.tasks.result IS 'Result of the task in JSON format';
COMMENT ON COLUMN public.tasks.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN public.tasks.updated_at IS 'Timestamp when row is updated';
COMMENT ON COLUMN public.tasks.num_retries IS 'Number of retries';
COMMENT ON COLUMN public.tasks.user_id IS 'ID of the user who launched the task';
CREATE TABLE public.transcript (
    id integer NOT NULL,
    model character varying NOT NULL,
    transcript character varying NOT NULL,
    segments json NOT NULL,
    language character varying NOT NULL,
    language_confidence double precision NOT NULL,
    transcript_type character varying NOT NULL,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
COMMENT ON COLUMN public.transcript.model IS 'Name of model used to generate transcript';
COMMENT ON COLUMN public.transcript.transcript IS 'Full text transcript of media';
COMMENT ON COLUMN public.transcript.segments IS 'Segments of the transcript';
COMMENT ON COLUMN public.transcript.language IS 'Language of the transcript as predicted by model';
COMMENT ON COLUMN public.transcript.language_confidence IS 'Confidence score of language prediction';
COMMENT ON COLUMN public.transcript.transcript_type IS 'The type of transcript';
COMMENT ON COLUMN public.transcript.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN public.transcript.updated_at IS 'Timestamp when row is updated';
CREATE SEQUENCE public.transcript_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.transcript_id_seq OWNED BY public.transcript.id;
CREATE TABLE public.video (
    id character varying(36) NOT NULL,
    path character varying,
    url character varying,
    title character varying,
    description character varying
);
COMMENT ON COLUMN public.video.path IS 'Path';
COMMENT ON COLUMN public.video.url IS 'URL';
COMMENT ON COLUMN public.video.title IS 'Title';
COMMENT ON COLUMN public.video.description IS 'Description';
CREATE TABLE public.webhooks (
    id uuid NOT NULL,
    user_id character varying,
    url character varying NOT NULL,
    events jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
);
COMMENT ON COLUMN public.webhooks.id IS 'Webhook ID';
COMMENT ON COLUMN public.webhooks.user_id IS 'The user ID associated with the webhook';
COMMENT ON COLUMN public.webhooks.url IS 'The URL to which the webhook will send requests';
COMMENT ON COLUMN public.webhooks.events IS 'List of events the webhook is subscribed to. If None, the webhook is subscribed to all events.';
COMMENT ON COLUMN public.webhooks.created_at IS 'Timestamp when row is inserted';
COMMENT ON COLUMN public.webhooks.updated_at IS 'Timestamp when row is updated';
ALTER TABLE ONLY public.caption ALTER COLUMN id SET DEFAULT nextval('public.caption_id_seq'::regclass);
ALTER TABLE ONLY public.transcript ALTER COLUMN id SET DEFAULT nextval('public.transcript_id_seq'::regclass);
INSERT INTO public.alembic_version VALUES ('acb40dabc2c0');
INSERT INTO public.caption VALUES (1, 'blip2', 0, 'A frame 0', 0, 'caption', '2026-12-04 14:06:07.447454+00', '2026-12-04 14:06:07.447454+00');
INSERT INTO public.caption VALUES (2, 'blip2', 1, 'A frame 1', 0.5, 'caption', '2026-12-04 14:06:07.462609+00', '2026-12-04 14:06:07.462609+00');
INSERT INTO public.caption VALUES (3, 'blip2', 2, 'A frame 2', 1, 'caption', '2026-12-04 14:06:07.470602+00', '2026-12-04 14:06:07.470602+00');
INSERT INTO public.extended_video VALUES ('extended-video-0', 12.5, 'CREATED');
INSERT INTO public.extended_video VALUES ('extended-video-1', 25, 'RUNNING');
INSERT INTO public.extended_video VALUES ('extended-video-2', 37.5, 'COMPLETED');
INSERT INTO public.extended_video VALUES ('extended-video-3', 50, 'FAILED');
INSERT INTO public.media VALUES ('aana-video-0', 'video', '2026-12-04 14:06:07.341179+00', '2026-12-04 14:06:07.341179+00');
INSERT INTO public.media VALUES ('aana-video-1', 'video', '2026-12-04 14:06:07.360008+00', '2026-12-04 14:06:07.360008+00');
INSERT INTO public.media VALUES ('extended-video-0', 'extended_video', '2026-12-04 14:06:07.368633+00', '2026-12-04 14:06:07.368633+00');
INSERT INTO public.media VALUES ('extended-video-1', 'extended_video', '2026-12-04 14:06:07.391851+00', '2026-12-04 14:06:07.391851+00');
INSERT INTO public.media VALUES ('extended-video-2', 'extended_video', '2026-12-04 14:06:07.411873+00', '2026-12-04 14:06:07.411873+00');
INSERT INTO public.media VALUES ('extended-video-3', 'extended_video', '2026-12-04 14:06:07.422036+00', '2026-12-04 14:06:07.422036+00');
INSERT INTO public.tasks VALUES ('9f91d626-bf96-4e61-9f5e-e9b773afa675', '/video/caption', '\x8005953e000000000000007d94288c05766964656f947d948c0375726c948c1968747470733a2f2f6578616d706c652e636f6d2f302e6d703494738c016e944b018c026f6b9488752e', 'CREATED', 0, NULL, NULL, 0, NULL, '2026-12-04 14:06:07.496981+00', '2026-12-04 14:06:07.496981+00', 0, 'user-0');
INSERT INTO public.tasks VALUES ('3251491e-5d18-43d4-984e-0c99f8a60fcf', '/video/caption', '\x80059527000000000000007d94288c066672616d6573944b014b024b0387948c0473697a65945d94284d80024de00165752e', 'ASSIGNED', 1, '2026-12-04 14:06:07.531937+00', NULL, 51, NULL, '2026-12-04 14:06:07.517467+00', '2026-12-04 14:06:07.527526+00', 1, 'user-1');
INSERT INTO public.tasks VALUES ('a78c6d0d-5c62-4596-b656-5713b2d4ab79', '/video/caption', '\x800595eb000000000000007d948c05766964656f948c1661616e612e636f72652e6d6f64656c732e766964656f948c0a566964656f496e7075749493942981947d94288c085f5f646963745f5f947d94288c0470617468944e8c0375726c948c1968747470733a2f2f6578616d706c652e636f6d2f762e6d7034948c07636f6e74656e74944e8c086d656469615f6964948c02763194758c125f5f707964616e7469635f65787472615f5f944e8c175f5f707964616e7469635f6669656c64735f7365745f5f948f9428680d680a908c145f5f707964616e7469635f707269766174655f5f947d948c055f66696c65944e737562732e', 'COMPLETED', 2, NULL, '2026-12-04 14:06:07.559321+00', 52, '{"n":2}', '2026-12-04 14:06:07.547728+00', '2026-12-04 14:06:07.555572+00', 0, 'user-0');
INSERT INTO public.tasks VALUES ('6ec2b375-f290-471c-92e9-524b27e3e0c6', '/video/caption', '\x8005955f000000000000007d948c026174948c086461746574696d65948c086461746574696d65949394430a07e901010000000000009468028c0874696d657a6f6e6594939468028c0974696d6564656c74619493944b004b004b00879452948594529486945294732e', 'RUNNING', 3, NULL, NULL, 53, NULL, '2026-12-04 14:06:07.571662+00', '2026-12-04 14:06:07.585226+00', 0, 'user-1');
INSERT INTO public.tasks VALUES ('4be53112-ce27-4ae4-92aa-9800e07374b9', '/video/caption', '\x8005951a000000000000007d948c0474657874948c0c6265666f726500616674657294732e', 'FAILED', 4, NULL, '2026-12-04 14:06:07.612662+00', 54, '{"error":"TimeoutError","message":"took too long"}', '2026-12-04 14:06:07.598808+00', '2026-12-04 14:06:07.611912+00', 0, 'user-0');
INSERT INTO public.tasks VALUES ('1d1a6ac5-22a5-4490-a7ce-40c7fdcb2bcf', '/video/caption', '\x8005951b000000000000007d948c0474657874948c0d68616c6620eda0bd207061697294732e', 'NOT_FINISHED', 5, NULL, NULL, 55, NULL, '2026-12-04 14:06:07.623632+00', '2026-12-04 14:06:07.635467+00', 0, 'user-1');
INSERT INTO public.tasks VALUES ('7386af31-cbec-434d-bda3-cfdc21be2f12', '/video/transcribe', '\x80059517000000000000007d948c06737461747573948c074352454154454494732e', 'CREATED', 1, NULL, NULL, 0, NULL, '2026-12-04 14:06:07.643657+00', '2026-12-04 14:06:07.643657+00', 0, NULL);
INSERT INTO public.tasks VALUES ('675a428b-9412-4746-a7cc-66647756809d', '/video/transcribe', '\x80059518000000000000007d948c06737461747573948c0841535349474e454494732e', 'ASSIGNED', 1, '2026-12-04 14:06:07.672374+00', NULL, 10, '{"s":"ASSIGNED"}', '2026-12-04 14:06:07.654612+00', '2026-12-04 14:06:07.671605+00', 1, NULL);
INSERT INTO public.tasks VALUES ('a50cfc5c-5095-45bb-94f3-4519f67c661c', '/video/transcribe', '\x80059519000000000000007d948c06737461747573948c09434f4d504c4554454494732e', 'COMPLETED', 1, NULL, '2026-12-04 14:06:07.696546+00', 10, '{"s":"COMPLETED"}', '2026-12-04 14:06:07.681982+00', '2026-12-04 14:06:07.695747+00', 0, NULL);
INSERT INTO public.tasks VALUES ('a32d0ed4-a54a-443d-8c4c-25d8e6b3436d', '/video/transcribe', '\x80059517000000000000007d948c06737461747573948c0752554e4e494e4794732e', 'RUNNING', 1, NULL, NULL, 10, '{"s":"RUNNING"}', '2026-12-04 14:06:07.707673+00', '2026-12-04 14:06:07.723625+00', 0, NULL);
INSERT INTO public.tasks VALUES ('a61200b3-eca1-471e-bffc-b2f244dd8002', '/video/transcribe', '\x80059516000000000000007d948c06737461747573948c064641494c454494732e', 'FAILED', 1, NULL, '2026-12-04 14:06:07.751653+00', 10, '{"s":"FAILED"}', '2026-12-04 14:06:07.739653+00', '2026-12-04 14:06:07.747858+00', 0, NULL);
INSERT INTO public.tasks VALUES ('a593ca66-b651-45ee-b289-b2cb025d6ee1', '/video/transcribe', '\x8005951c000000000000007d948c06737461747573948c0c4e4f545f46494e495348454494732e', 'NOT_FINISHED', 1, NULL, NULL, 10, '{"s":"NOT_FINISHED"}', '2026-12-04 14:06:07.763936+00', '2026-12-04 14:06:07.77982+00', 0, NULL);
INSERT INTO public.tasks VALUES ('58e120d7-a63d-4e45-9dcf-cd6e523f9d2b', '/video/describe', '\x8005950a000000000000007d948c016e944b00732e', 'COMPLETED', 0, NULL, '2026-12-04 14:06:07.804611+00', 100, '{"text":"nul\u0000 in result"}', '2026-12-04 14:06:07.787773+00', '2026-12-04 14:06:07.803629+00', 0, NULL);
INSERT INTO public.transcript VALUES (1, 'whisper', 'Hello world', '[{"text":"Hello world","time_interval":{"end":1.5,"start":0.0}}]', 'en', 0.9, 'transcript', '2026-12-04 14:06:07.484322+00', '2026-12-04 14:06:07.484322+00');
INSERT INTO public.video VALUES ('aana-video-0', '/data/0.mp4', NULL, 'Video 0', '');
INSERT INTO public.video VALUES ('aana-video-1', '/data/1.mp4', NULL, 'Video 1', '');
INSERT INTO public.video VALUES ('extended-video-0', NULL, 'https://example.com/0.mp4', 'Extended 0', NULL);
INSERT INTO public.video VALUES ('extended-video-1', NULL, 'https://example.com/1.mp4', 'Extended 1', NULL);
INSERT INTO public.video VALUES ('extended-video-2', NULL, 'https://example.com/2.mp4', 'Extended 2', NULL);
INSERT INTO public.video VALUES ('extended-video-3', NULL, 'https://example.com/3.mp4', 'Extended 3', NULL);
INSERT INTO public.webhooks VALUES ('df169fae-1061-40e6-96cd-42b770dd87b4', NULL, 'https://hooks.example.com/all', '[]', '2026-12-04 14:06:07.81156+00', '2026-12-04 14:06:07.81156+00');
INSERT INTO public.webhooks VALUES ('b16c7c3c-6c2d-4a83-bc78-7c50a95f27e6', 'user-1', 'https://hooks.example.com/user-1', '["task.completed", "task.failed"]', '2026-12-04 14:06:07.82792+00', '2026-12-04 14:06:07.82792+00');
SELECT pg_catalog.setval('public.caption_id_seq', 3, true);
SELECT pg_catalog.setval('public.transcript_id_seq', 1, true);
ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);
ALTER TABLE ONLY public.caption
    ADD CONSTRAINT pk_caption PRIMARY KEY (id);
ALTER TABLE ONLY public.extended_video
    ADD CONSTRAINT pk_extended_video PRIMARY KEY (id);
ALTER TABLE ONLY public.media
    ADD CONSTRAINT pk_media PRIMARY KEY (id);
ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT pk_tasks PRIMARY KEY (id);
ALTER TABLE ONLY public.transcript
    ADD CONSTRAINT pk_transcript PRIMARY KEY (id);
ALTER TABLE ONLY public.video
    ADD CONSTRAINT pk_video PRIMARY KEY (id);
ALTER TABLE ONLY public.webhooks
    ADD CONSTRAINT pk_webhooks PRIMARY KEY (id);
CREATE INDEX ix_tasks_status ON public.tasks USING btree (status);
CREATE INDEX ix_tasks_user_id ON public.tasks USING btree (user_id);
CREATE INDEX ix_webhooks_user_id ON public.webhooks USING btree (user_id);
ALTER TABLE ONLY public.extended_video
    ADD CONSTRAINT fk_extended_video_id_video FOREIGN KEY (id) REFERENCES public.video(id);
ALTER TABLE ONLY public.video
    ADD CONSTRAINT fk_video_id_media FOREIGN KEY (id) REFERENCES public.media(id);
