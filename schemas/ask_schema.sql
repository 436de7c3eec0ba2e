-- ASK database schema at m001_initial_schema, generated from the PostgreSQL catalog
-- of a database migrated to it. Do not edit: change the migrations, then regenerate with
-- cargo run -p ask-migration -- -u postgres://… schema update

CREATE SEQUENCE groq_usage_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE payments_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;
CREATE SEQUENCE users_id_seq AS integer START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1;

CREATE TABLE groq_usage (
    id integer DEFAULT nextval('groq_usage_id_seq'::regclass) NOT NULL,
    input_tokens integer DEFAULT 0,
    output_tokens integer DEFAULT 0,
    total_tokens integer DEFAULT 0,
    cost_usd character varying DEFAULT '0.0'::character varying,
    model character varying DEFAULT 'llama-3.1-70b-versatile'::character varying,
    request_type character varying,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP
);
ALTER TABLE groq_usage ADD CONSTRAINT groq_usage_pkey PRIMARY KEY (id);
CREATE INDEX ix_groq_usage_created_at ON groq_usage USING btree (created_at);

CREATE TABLE users (
    id integer DEFAULT nextval('users_id_seq'::regclass) NOT NULL,
    email character varying NOT NULL,
    name character varying,
    google_id character varying,
    credits integer DEFAULT 0,
    subscription_tier character varying DEFAULT 'trial'::character varying,
    subscription_status character varying DEFAULT 'inactive'::character varying,
    razorpay_customer_id character varying,
    subscription_expires_at timestamp without time zone,
    razorpay_subscription_id character varying,
    subscription_auto_renew boolean DEFAULT false,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
    last_login timestamp without time zone,
    is_active boolean DEFAULT true
);
ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX ix_users_email ON users USING btree (email);
CREATE UNIQUE INDEX ix_users_google_id ON users USING btree (google_id);
CREATE UNIQUE INDEX ix_users_razorpay_customer_id ON users USING btree (razorpay_customer_id);
CREATE INDEX ix_users_razorpay_subscription_id ON users USING btree (razorpay_subscription_id);

CREATE TABLE payments (
    id integer DEFAULT nextval('payments_id_seq'::regclass) NOT NULL,
    user_id integer NOT NULL,
    razorpay_payment_id character varying,
    razorpay_order_id character varying,
    amount integer,
    currency character varying DEFAULT 'INR'::character varying,
    status character varying,
    product_type character varying,
    credits_added integer DEFAULT 0,
    processing_fee integer DEFAULT 0,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
    completed_at timestamp without time zone
);
ALTER TABLE payments ADD CONSTRAINT payments_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX ix_payments_razorpay_order_id ON payments USING btree (razorpay_order_id);
CREATE UNIQUE INDEX ix_payments_razorpay_payment_id ON payments USING btree (razorpay_payment_id);

ALTER TABLE payments ADD CONSTRAINT payments_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

ALTER SEQUENCE groq_usage_id_seq OWNED BY groq_usage.id;
ALTER SEQUENCE payments_id_seq OWNED BY payments.id;
ALTER SEQUENCE users_id_seq OWNED BY users.id;
