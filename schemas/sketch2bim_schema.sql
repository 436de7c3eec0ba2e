-- Sketch2BIM database schema at m010_remove_reader_type_column, generated from the PostgreSQL catalog
-- of a database migrated to it. Do not edit: change the migrations, then regenerate with
-- cargo run -p sketch2bim-migration -- -u postgres://… schema update

CREATE SEQUENCE organization_members_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE organizations_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE payments_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE project_versions_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE referrals_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE users_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;

CREATE TABLE organizations (
    id integer DEFAULT nextval('organizations_id_seq'::regclass) NOT NULL,
    name character varying NOT NULL,
    slug character varying,
    razorpay_customer_id character varying,
    subscription_tier character varying DEFAULT 'trial'::character varying,
    shared_credits integer DEFAULT 0,
    created_at timestamp without time zone,
    updated_at timestamp without time zone
);
ALTER TABLE organizations ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX ix_organizations_razorpay_customer_id ON organizations USING btree (razorpay_customer_id);
CREATE UNIQUE INDEX ix_organizations_slug ON organizations USING btree (slug);

CREATE TABLE users (
    id integer DEFAULT nextval('users_id_seq'::regclass) NOT NULL,
    email character varying NOT NULL,
    name character varying,
    google_id character varying,
    credits integer DEFAULT 5,
    subscription_tier character varying DEFAULT 'trial'::character varying,
    subscription_status character varying DEFAULT 'inactive'::character varying,
    razorpay_customer_id character varying,
    created_at timestamp without time zone,
    updated_at timestamp without time zone,
    last_login timestamp without time zone,
    is_active boolean DEFAULT true,
    subscription_expires_at timestamp without time zone,
    razorpay_subscription_id character varying,
    subscription_auto_renew boolean DEFAULT false
);
ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX ix_users_email ON users USING btree (email);
CREATE UNIQUE INDEX ix_users_google_id ON users USING btree (google_id);
CREATE UNIQUE INDEX ix_users_razorpay_customer_id ON users USING btree (razorpay_customer_id);
CREATE INDEX ix_users_razorpay_subscription_id ON users USING btree (razorpay_subscription_id);

CREATE TABLE jobs (
    id character varying NOT NULL,
    user_id integer NOT NULL,
    status character varying DEFAULT 'queued'::character varying,
    progress integer DEFAULT 0,
    sketch_filename character varying,
    sketch_url character varying,
    sketch_format character varying,
    detection_confidence double precision,
    plan_data json,
    ifc_url character varying,
    dwg_url character varying,
    rvt_url character varying,
    model_3dm_url character varying,
    preview_image_url character varying,
    error_message text,
    retry_count integer DEFAULT 0,
    qc_report_path character varying,
    requires_review boolean DEFAULT false,
    cost_usd double precision DEFAULT '0'::double precision,
    created_at timestamp without time zone,
    started_at timestamp without time zone,
    completed_at timestamp without time zone,
    expires_at timestamp without time zone,
    legend_data json,
    legend_detected boolean DEFAULT false,
    batch_id character varying,
    sketchup_url character varying,
    project_type character varying DEFAULT 'architecture'::character varying
);
ALTER TABLE jobs ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);
CREATE INDEX ix_jobs_batch_id ON jobs USING btree (batch_id);
CREATE INDEX ix_jobs_id ON jobs USING btree (id);

CREATE TABLE iterations (
    id character varying NOT NULL,
    job_id character varying NOT NULL,
    user_id integer NOT NULL,
    parent_iteration_id character varying,
    ifc_url character varying,
    ifc_filename character varying,
    changes_json json,
    change_summary text,
    name character varying,
    notes text,
    created_at timestamp without time zone
);
ALTER TABLE iterations ADD CONSTRAINT iterations_pkey PRIMARY KEY (id);
CREATE INDEX ix_iterations_id ON iterations USING btree (id);
CREATE INDEX ix_iterations_job_id ON iterations USING btree (job_id);

CREATE TABLE layout_variations (
    id character varying NOT NULL,
    job_id character varying NOT NULL,
    user_id integer NOT NULL,
    variation_number integer,
    plan_data json,
    confidence double precision,
    ifc_url character varying,
    preview_image_url character varying,
    created_at timestamp without time zone
);
ALTER TABLE layout_variations ADD CONSTRAINT layout_variations_pkey PRIMARY KEY (id);
CREATE INDEX ix_layout_variations_id ON layout_variations USING btree (id);
CREATE INDEX ix_layout_variations_job_id ON layout_variations USING btree (job_id);

CREATE TABLE organization_members (
    id integer DEFAULT nextval('organization_members_id_seq'::regclass) NOT NULL,
    organization_id integer NOT NULL,
    user_id integer NOT NULL,
    role character varying DEFAULT 'member'::character varying,
    created_at timestamp without time zone
);
ALTER TABLE organization_members ADD CONSTRAINT organization_members_pkey PRIMARY KEY (id);
ALTER TABLE organization_members ADD CONSTRAINT uq_org_user UNIQUE (organization_id, user_id);

CREATE TABLE payments (
    id integer DEFAULT nextval('payments_id_seq'::regclass) NOT NULL,
    user_id integer NOT NULL,
    razorpay_payment_id character varying,
    razorpay_order_id character varying,
    amount integer,
    currency character varying DEFAULT 'usd'::character varying,
    status character varying,
    product_type character varying,
    credits_added integer DEFAULT 0,
    created_at timestamp without time zone,
    completed_at timestamp without time zone
);
ALTER TABLE payments ADD CONSTRAINT payments_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX ix_payments_razorpay_order_id ON payments USING btree (razorpay_order_id);
CREATE UNIQUE INDEX ix_payments_razorpay_payment_id ON payments USING btree (razorpay_payment_id);

CREATE TABLE project_versions (
    id integer DEFAULT nextval('project_versions_id_seq'::regclass) NOT NULL,
    project_name character varying,
    user_id integer NOT NULL,
    version_number integer,
    job_id character varying,
    notes text,
    created_at timestamp without time zone
);
ALTER TABLE project_versions ADD CONSTRAINT project_versions_pkey PRIMARY KEY (id);
CREATE INDEX ix_project_versions_project_name ON project_versions USING btree (project_name);

CREATE TABLE referrals (
    id integer DEFAULT nextval('referrals_id_seq'::regclass) NOT NULL,
    referrer_id integer NOT NULL,
    referred_id integer,
    referral_code character varying NOT NULL,
    status character varying,
    credits_awarded integer,
    created_at timestamp without time zone,
    completed_at timestamp without time zone,
    rewarded_at timestamp without time zone
);
ALTER TABLE referrals ADD CONSTRAINT referrals_pkey PRIMARY KEY (id);
CREATE INDEX ix_referrals_id ON referrals USING btree (id);
CREATE UNIQUE INDEX ix_referrals_referral_code ON referrals USING btree (referral_code);
CREATE INDEX ix_referrals_referred_id ON referrals USING btree (referred_id);
CREATE INDEX ix_referrals_referrer_id ON referrals USING btree (referrer_id);

ALTER TABLE jobs ADD CONSTRAINT jobs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE iterations ADD CONSTRAINT iterations_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id);
ALTER TABLE iterations ADD CONSTRAINT iterations_parent_iteration_id_fkey FOREIGN KEY (parent_iteration_id) REFERENCES iterations(id);
ALTER TABLE iterations ADD CONSTRAINT iterations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE layout_variations ADD CONSTRAINT layout_variations_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id);
ALTER TABLE layout_variations ADD CONSTRAINT layout_variations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE organization_members ADD CONSTRAINT organization_members_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations(id);
ALTER TABLE organization_members ADD CONSTRAINT organization_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE payments ADD CONSTRAINT payments_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE project_versions ADD CONSTRAINT project_versions_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id);
ALTER TABLE project_versions ADD CONSTRAINT project_versions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);
ALTER TABLE referrals ADD CONSTRAINT referrals_referred_id_fkey FOREIGN KEY (referred_id) REFERENCES users(id);
ALTER TABLE referrals ADD CONSTRAINT referrals_referrer_id_fkey FOREIGN KEY (referrer_id) REFERENCES users(id);

ALTER SEQUENCE organization_members_id_seq OWNED BY organization_members.id;
ALTER SEQUENCE organizations_id_seq OWNED BY organizations.id;
ALTER SEQUENCE payments_id_seq OWNED BY payments.id;
ALTER SEQUENCE project_versions_id_seq OWNED BY project_versions.id;
ALTER SEQUENCE referrals_id_seq OWNED BY referrals.id;
ALTER SEQUENCE users_id_seq OWNED BY users.id;
