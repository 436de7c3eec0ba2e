//! Reading SQLite's catalog: `sqlite_master` and the table and index pragmas.

use std::collections::BTreeMap;

use sea_orm::DbErr;

use crate::backend::rows::{opt_text, rows, text};
use crate::backend::transport::{Reader, literal};
use crate::pure::catalog::{Catalog, Column, Constraint, FkAction, ForeignKey, Index, Table};

/// `pragma_foreign_key_list`'s `on_update` / `on_delete`.
fn fk_action(action: &str) -> FkAction {
    match action {
        "RESTRICT" => FkAction::Restrict,
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

pub(crate) async fn read<C: Reader + ?Sized>(db: &C) -> Result<Catalog, DbErr> {
    let mut catalog = Catalog::default();
    let names: Vec<String> = rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .await?
    .iter()
    .map(|r| text(r, "name"))
    .collect::<Result<_, _>>()?;
    for name in names {
        let lit = literal(&name);
        let mut table = Table::default();
        let mut pk: Vec<(i32, String)> = Vec::new();
        for row in rows(
            db,
            &format!(
                "SELECT name, type, \"notnull\" AS not_null, dflt_value, pk \
                 FROM pragma_table_info({lit}) ORDER BY cid"
            ),
        )
        .await?
        {
            let column = text(&row, "name")?;
            let pk_rank: i32 = row.try_get("", "pk")?;
            if pk_rank > 0 {
                pk.push((pk_rank, column.clone()));
            }
            table.columns.push(Column {
                name: column,
                position: table.columns.len() + 1,
                data_type: text(&row, "type")?.to_lowercase(),
                not_null: row.try_get::<i32>("", "not_null")? != 0,
                default: opt_text(&row, "dflt_value")?,
                identity: None,
            });
        }
        if !pk.is_empty() {
            pk.sort();
            let columns = pk.into_iter().map(|(_, c)| c).collect();
            table
                .constraints
                .insert("PRIMARY KEY".into(), Constraint::primary_key(columns));
        }
        let mut fks: BTreeMap<i32, ForeignKey> = BTreeMap::new();
        for row in rows(
            db,
            &format!(
                "SELECT id, \"table\" AS ref_table, \"from\" AS from_col, \"to\" AS to_col, \
                        on_update, on_delete \
                 FROM pragma_foreign_key_list({lit}) ORDER BY id, seq"
            ),
        )
        .await?
        {
            let id: i32 = row.try_get("", "id")?;
            let fk = fks.entry(id).or_default();
            fk.to_table = text(&row, "ref_table")?;
            fk.columns.push(text(&row, "from_col")?);
            // No `to`: the referenced table's primary key.
            fk.to_columns
                .push(opt_text(&row, "to_col")?.unwrap_or_default());
            fk.on_update = fk_action(&text(&row, "on_update")?);
            fk.on_delete = fk_action(&text(&row, "on_delete")?);
        }
        for fk in fks.into_values() {
            // SQLite's foreign keys have no names: each is named by its columns.
            let key = format!("FOREIGN KEY ({})", fk.columns.join(", "));
            table.constraints.insert(key, Constraint::foreign_key(fk));
        }
        for row in rows(
            db,
            &format!(
                "SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list({lit}) \
                 ORDER BY name"
            ),
        )
        .await?
        {
            let index = text(&row, "name")?;
            let unique = row.try_get::<i32>("", "is_unique")? != 0;
            let origin = text(&row, "origin")?;
            // An expression key has no name.
            let columns: Vec<Option<String>> = rows(
                db,
                &format!(
                    "SELECT name FROM pragma_index_info({}) ORDER BY seqno",
                    literal(&index)
                ),
            )
            .await?
            .iter()
            .map(|r| opt_text(r, "name"))
            .collect::<Result<_, _>>()?;
            let definition = format!(
                "{}INDEX ON {name} ({}) [{origin}]",
                if unique { "UNIQUE " } else { "" },
                columns
                    .iter()
                    .map(|c| c.as_deref().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            table.indexes.insert(
                index,
                Index {
                    unique,
                    columns,
                    definition,
                },
            );
        }
        catalog.tables.insert(name, table);
    }
    Ok(catalog)
}
