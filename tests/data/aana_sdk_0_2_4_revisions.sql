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
INSERT INTO public.alembic_version VALUES ('7e1f0c2a9b31');
INSERT INTO public.caption VALUES (1, 'blip2', 0, 'A frame 0', 0, 'caption', '2026-12-04 14:06:21.268249+00', '2026-12-04 14:06:21.268249+00');
INSERT INTO public.caption VALUES (2, 'blip2', 1, 'A frame 1', 0.5, 'caption', '2026-12-04 14:06:21.280252+00', '2026-12-04 14:06:21.280252+00');
INSERT INTO public.caption VALUES (3, 'blip2', 2, 'A frame 2', 1, 'caption', '2026-12-04 14:06:21.291483+00', '2026-12-04 14:06:21.291483+00');
INSERT INTO public.extended_video VALUES ('extended-video-0', 12.5, 'CREATED');
INSERT INTO public.extended_video VALUES ('extended-video-1', 25, 'RUNNING');
INSERT INTO public.extended_video VALUES ('extended-video-2', 37.5, 'COMPLETED');
INSERT INTO public.extended_video VALUES ('extended-video-3', 50, 'FAILED');
INSERT INTO public.media VALUES ('aana-video-0', 'video', '2026-12-04 14:06:21.133581+00', '2026-12-04 14:06:21.133581+00');
INSERT INTO public.media VALUES ('aana-video-1', 'video', '2026-12-04 14:06:21.17602+00', '2026-12-04 14:06:21.17602+00');
INSERT INTO public.media VALUES ('extended-video-0', 'extended_video', '2026-12-04 14:06:21.187504+00', '2026-12-04 14:06:21.187504+00');
INSERT INTO public.media VALUES ('extended-video-1', 'extended_video', '2026-12-04 14:06:21.208895+00', '2026-12-04 14:06:21.208895+00');
INSERT INTO public.media VALUES ('extended-video-2', 'extended_video', '2026-12-04 14:06:21.229956+00', '2026-12-04 14:06:21.229956+00');
INSERT INTO public.media VALUES ('extended-video-3', 'extended_video', '2026-12-04 14:06:21.256271+00', '2026-12-04 14:06:21.256271+00');
INSERT INTO public.tasks VALUES ('f541f6f9-f79c-4b74-b51b-a3ed8bb4260c', '/video/caption', '\x8005953e000000000000007d94288c05766964656f947d948c0375726c948c1968747470733a2f2f6578616d706c652e636f6d2f302e6d703494738c016e944b018c026f6b9488752e', 'CREATED', 0, NULL, NULL, 0, NULL, '2026-12-04 14:06:21.320679+00', '2026-12-04 14:06:21.320679+00', 0, 'user-0');
INSERT INTO public.tasks VALUES ('3b9ad2a4-6e86-4efb-b021-565ad91f0ac3', '/video/caption', '\x80059527000000000000007d94288c066672616d6573944b014b024b0387948c0473697a65945d94284d80024de00165752e', 'ASSIGNED', 1, '2026-12-04 14:06:21.359792+00', NULL, 51, NULL, '2026-12-04 14:06:21.333169+00', '2026-12-04 14:06:21.354592+00', 1, 'user-1');
INSERT INTO public.tasks VALUES ('2a60a40d-72d5-4539-a57b-e82c6b396ca1', '/video/caption', '\x800595eb000000000000007d948c05766964656f948c1661616e612e636f72652e6d6f64656c732e766964656f948c0a566964656f496e7075749493942981947d94288c085f5f646963745f5f947d94288c0470617468944e8c0375726c948c1968747470733a2f2f6578616d706c652e636f6d2f762e6d7034948c07636f6e74656e74944e8c086d656469615f6964948c02763194758c125f5f707964616e7469635f65787472615f5f944e8c175f5f707964616e7469635f6669656c64735f7365745f5f948f9428680d680a908c145f5f707964616e7469635f707269766174655f5f947d948c055f66696c65944e737562732e', 'COMPLETED', 2, NULL, '2026-12-04 14:06:21.381392+00', 52, '{"n":2}', '2026-12-04 14:06:21.363993+00', '2026-12-04 14:06:21.38047+00', 0, 'user-0');
INSERT INTO public.tasks VALUES ('5345a02b-ed52-4cfb-8d87-d376eae0b49e', '/video/caption', '\x8005955f000000000000007d948c026174948c086461746574696d65948c086461746574696d65949394430a07e901010000000000009468028c0874696d657a6f6e6594939468028c0974696d6564656c74619493944b004b004b00879452948594529486945294732e', 'RUNNING', 3, NULL, NULL, 53, NULL, '2026-12-04 14:06:21.390288+00', '2026-12-04 14:06:21.402531+00', 0, 'user-1');
INSERT INTO public.tasks VALUES ('91be7638-5ffe-4df0-a4e8-492c25438024', '/video/caption', '\x8005951a000000000000007d948c0474657874948c0c6265666f726500616674657294732e', 'FAILED', 4, NULL, '2026-12-04 14:06:21.440775+00', 54, '{"error":"TimeoutError","message":"took too long"}', '2026-12-04 14:06:21.42101+00', '2026-12-04 14:06:21.438593+00', 0, 'user-0');
INSERT INTO public.tasks VALUES ('dd28c2ff-53a5-4f4e-b56a-0868d6eeff8a', '/video/caption', '\x8005951b000000000000007d948c0474657874948c0d68616c6620eda0bd207061697294732e', 'NOT_FINISHED', 5, NULL, NULL, 55, NULL, '2026-12-04 14:06:21.458593+00', '2026-12-04 14:06:21.470603+00', 0, 'user-1');
INSERT INTO public.tasks VALUES ('3b0d972e-44b8-4c09-a80f-ec4195a359f9', '/video/transcribe', '\x80059517000000000000007d948c06737461747573948c074352454154454494732e', 'CREATED', 1, NULL, NULL, 0, NULL, '2026-12-04 14:06:21.483582+00', '2026-12-04 14:06:21.483582+00', 0, NULL);
INSERT INTO public.tasks VALUES ('b5ede153-d803-4b5b-b7d3-0d7b58044076', '/video/transcribe', '\x80059518000000000000007d948c06737461747573948c0841535349474e454494732e', 'ASSIGNED', 1, '2026-12-04 14:06:21.507827+00', NULL, 10, '{"s":"ASSIGNED"}', '2026-12-04 14:06:21.48635+00', '2026-12-04 14:06:21.498654+00', 1, NULL);
INSERT INTO public.tasks VALUES ('e7b23bcf-6c90-4c42-b099-323c4b955af1', '/video/transcribe', '\x80059519000000000000007d948c06737461747573948c09434f4d504c4554454494732e', 'COMPLETED', 1, NULL, '2026-12-04 14:06:21.523753+00', 10, '{"s":"COMPLETED"}', '2026-12-04 14:06:21.51522+00', '2026-12-04 14:06:21.523218+00', 0, NULL);
INSERT INTO public.tasks VALUES ('97383554-5f3c-49fd-ab16-80ea02c49001', '/video/transcribe', '\x80059517000000000000007d948c06737461747573948c0752554e4e494e4794732e', 'RUNNING', 1, NULL, NULL, 10, '{"s":"RUNNING"}', '2026-12-04 14:06:21.531283+00', '2026-12-04 14:06:21.546206+00', 0, NULL);
INSERT INTO public.tasks VALUES ('3e90d26d-948a-431a-a063-bb50f95194cc', '/video/transcribe', '\x80059516000000000000007d948c06737461747573948c064641494c454494732e', 'FAILED', 1, NULL, '2026-12-04 14:06:21.559645+00', 10, '{"s":"FAILED"}', '2026-12-04 14:06:21.554739+00', '2026-12-04 14:06:21.559143+00', 0, NULL);
INSERT INTO public.tasks VALUES ('1529d2d6-2f09-42f3-8074-7b56b8c94d10', '/video/transcribe', '\x8005951c000000000000007d948c06737461747573948c0c4e4f545f46494e495348454494732e', 'NOT_FINISHED', 1, NULL, NULL, 10, '{"s":"NOT_FINISHED"}', '2026-12-04 14:06:21.563219+00', '2026-12-04 14:06:21.571353+00', 0, NULL);
INSERT INTO public.tasks VALUES ('561783b9-fbe4-4ef2-820d-577fead83ad8', '/video/describe', '\x8005950a000000000000007d948c016e944b00732e', 'COMPLETED', 0, NULL, '2026-12-04 14:06:21.582427+00', 100, '{"text":"nul\u0000 in result"}', '2026-12-04 14:06:21.575202+00', '2026-12-04 14:06:21.581729+00', 0, NULL);
INSERT INTO public.transcript VALUES (1, 'whisper', 'Hello world', '[{"text":"Hello world","time_interval":{"end":1.5,"start":0.0}}]', 'en', 0.9, 'transcript', '2026-12-04 14:06:21.308338+00', '2026-12-04 14:06:21.308338+00');
INSERT INTO public.video VALUES ('aana-video-0', '/data/0.mp4', NULL, 'Video 0', '');
INSERT INTO public.video VALUES ('aana-video-1', '/data/1.mp4', NULL, 'Video 1', '');
INSERT INTO public.video VALUES ('extended-video-0', NULL, 'https://example.com/0.mp4', 'Extended 0', NULL);
INSERT INTO public.video VALUES ('extended-video-1', NULL, 'https://example.com/1.mp4', 'Extended 1', NULL);
INSERT INTO public.video VALUES ('extended-video-2', NULL, 'https://example.com/2.mp4', 'Extended 2', NULL);
INSERT INTO public.video VALUES ('extended-video-3', NULL, 'https://example.com/3.mp4', 'Extended 3', NULL);
INSERT INTO public.webhooks VALUES ('9a489da1-240c-4426-936f-4719c1e08728', NULL, 'https://hooks.example.com/all', '[]', '2026-12-04 14:06:21.586769+00', '2026-12-04 14:06:21.586769+00');
INSERT INTO public.webhooks VALUES ('7a8b9053-0266-401b-8362-72f8ce42422a', 'user-1', 'https://hooks.example.com/user-1', '["task.completed", "task.failed"]', '2026-12-04 14:06:21.59719+00', '2026-12-04 14:06:21.59719+00');
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
